/**
 * The application protocols netwatch decodes. Their content sniffers are tried in this order before any
 * port hint, so the protocols that announce themselves most reliably come first.
 *
 * @module
 */

import type { AppProtocol } from "./app.ts";
import { bgpProtocol } from "./bgp.ts";
import { dhcpProtocol, dhcpv6Protocol } from "./dhcp.ts";
import { dnsProtocol } from "./dns.ts";
import { httpProtocol } from "./http.ts";
import { ntpProtocol } from "./ntp.ts";
import { quicProtocol } from "./quic.ts";
import { sipProtocol } from "./sip.ts";
import { ssdpProtocol } from "./ssdp.ts";
import { sshProtocol } from "./ssh.ts";
import { tlsProtocol } from "./tls.ts";

/** Every built-in application protocol. */
export const APP_PROTOCOLS: readonly AppProtocol[] = [
  tlsProtocol,
  httpProtocol,
  sipProtocol,
  sshProtocol,
  quicProtocol,
  dnsProtocol,
  dhcpProtocol,
  dhcpv6Protocol,
  ntpProtocol,
  bgpProtocol,
  ssdpProtocol,
] as AppProtocol[];
