/**
 * The JSON record of a decoded packet, as `netwatch packets --jsonl` prints it and the MCP tools return
 * it. Built only at the edges (output), never on the analysis path.
 *
 * @module
 */

import { linkTypeName } from "../capture/link_type.ts";
import { formatTs } from "../capture/timestamp.ts";
import type { LayerSet } from "./layers.ts";
import type { DecodedPacket } from "./packet_decoder.ts";

/** A packet record: plain JSON values only. */
export type PacketRecord = Record<string, unknown>;

/** The record of a decoded packet. */
export function packetRecord(p: DecodedPacket): PacketRecord {
  const rec: PacketRecord = {
    n: p.n,
    ts: formatTs(p.tsSec, p.tsFrac, p.tsDigits),
    len: p.len,
    caplen: p.caplen,
    link: linkTypeName(p.linkType),
    iface: p.iface,
  };
  if (p.comment !== undefined) rec.comment = p.comment;
  layerFields(p.layers, rec);
  if (p.malformed !== undefined) rec.malformed = p.malformed;
  return rec;
}

/** Copies the layers of a layer set into `rec` under their record names. */
export function layerFields(ls: LayerSet, rec: PacketRecord): PacketRecord {
  if (ls.sll !== undefined) rec.sll = ls.sll;
  if (ls.wlan !== undefined) rec.wlan = ls.wlan;
  if (ls.eth !== undefined) rec.eth = ls.eth.toJSON();
  if (ls.vlan !== undefined) rec.vlan = ls.vlan;
  if (ls.arp !== undefined) rec.arp = ls.arp.toJSON();
  if (ls.ip !== undefined) rec.ip = ls.ip.toJSON();
  if (ls.tunnel !== undefined) rec.tunnel = ls.tunnel;
  if (ls.tcp !== undefined) rec.tcp = ls.tcp.toJSON();
  if (ls.udp !== undefined) rec.udp = ls.udp.toJSON();
  if (ls.icmp !== undefined) rec.icmp = icmpJSON(ls.icmp.toJSON() as PacketRecord);
  if (ls.icmp6 !== undefined) rec.icmp6 = icmpJSON(ls.icmp6.toJSON() as PacketRecord);
  if (ls.app !== undefined && ls.appRecord !== undefined) {
    rec[ls.app] = ls.appRecord;
    // A QUIC Initial's ClientHello is shown as the packet's TLS layer, beside the QUIC header fields.
    if (ls.app === "quic" && "tls" in ls.appRecord) {
      const { tls, ...quic } = ls.appRecord as { tls: unknown };
      rec.quic = quic;
      rec.tls = tls;
    }
  }
  if (ls.inner !== undefined) rec.inner = innerFields(ls.inner);
  return rec;
}

/**
 * The packet inside a tunnel. Nested tunnels (GRE in GRE, VXLAN in GRE...) are flattened: `inner` is the
 * innermost packet, the one whose traffic the tunnels carry, and `via` lists the intermediate hops
 * (each tunnel's IP header and type) outermost first.
 */
function innerFields(ls: LayerSet): PacketRecord {
  const via: PacketRecord[] = [];
  let cur = ls;
  while (cur.inner !== undefined) {
    const hop = layerFields({ ...cur, inner: undefined }, {});
    via.push(hop);
    cur = cur.inner;
  }
  const rec = layerFields(cur, {});
  if (via.length > 0) rec.via = via;
  return rec;
}

function icmpJSON(icmp: PacketRecord): PacketRecord {
  if (icmp.quoted !== undefined) icmp.quoted = layerFields(icmp.quoted as LayerSet, {});
  return icmp;
}
