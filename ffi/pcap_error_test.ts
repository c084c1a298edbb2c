import assert from "node:assert/strict";
import { PcapError, pcapStatusError, permissionHint } from "./pcap_error.ts";
import {
  PCAP_ERROR,
  PCAP_ERROR_IFACE_NOT_UP,
  PCAP_ERROR_NO_SUCH_DEVICE,
  PCAP_ERROR_PERM_DENIED,
  PCAP_ERROR_PROMISC_PERM_DENIED,
  PCAP_ERROR_RFMON_NOTSUP,
} from "./libpcap.ts";

Deno.test("permissionHint: one actionable fix per platform", () => {
  const viaDeno = permissionHint("linux", "/usr/local/bin/deno");
  assert.match(viaDeno, /sudo setcap cap_net_raw,cap_net_admin=eip \/path\/to\/netwatch/);
  assert.match(viaDeno, /never setcap the deno executable/);
  const compiled = permissionHint("linux", "/opt/netwatch/netwatch");
  assert.match(compiled, /sudo setcap cap_net_raw,cap_net_admin=eip \/opt\/netwatch\/netwatch$/);
  assert.match(permissionHint("darwin"), /\/dev\/bpf\*.*ChmodBPF/);
  assert.match(permissionHint("windows"), /Npcap.*Restrict Npcap driver's access to Administrators only/);
});

Deno.test("pcapStatusError: libpcap statuses map to stable codes and keep libpcap's text", () => {
  const perm = pcapStatusError(PCAP_ERROR_PERM_DENIED, "socket: Operation not permitted", "eth0");
  assert.ok(perm instanceof PcapError && perm instanceof Error);
  assert.equal(perm.name, "PcapError");
  assert.equal(perm.code, "permission");
  assert.equal(perm.pcapText, "socket: Operation not permitted");
  assert.equal(perm.status, PCAP_ERROR_PERM_DENIED);
  assert.equal(perm.device, "eth0");
  assert.match(
    perm.message,
    /^Cannot capture on "eth0": permission denied: socket: Operation not permitted\. /,
  );
  assert.equal(pcapStatusError(PCAP_ERROR_PROMISC_PERM_DENIED, "", "eth0").code, "permission");
  assert.equal(pcapStatusError(PCAP_ERROR_NO_SUCH_DEVICE, "x", "nope0").code, "no_device");
  assert.equal(pcapStatusError(PCAP_ERROR_IFACE_NOT_UP, "x", "eth1").code, "not_up");
  assert.equal(pcapStatusError(PCAP_ERROR_RFMON_NOTSUP, "x", "wlan0").code, "not_supported");
  assert.equal(pcapStatusError(PCAP_ERROR, "boom", "eth0").code, "error");
  const cause = new Error("inner");
  assert.equal(new PcapError("capture", "m", { cause }).cause, cause);
});
