/**
 * The registry with every decoder netwatch ships. Adding a protocol: write its file, register it here.
 *
 * @module
 */

import { decodeArp } from "./arp.ts";
import { decodeEthernet } from "./ethernet.ts";
import { decodeIcmp, decodeIcmp6 } from "./icmp.ts";
import { decodeIeee80211, decodeRadiotap } from "./ieee80211.ts";
import { decodeIpv4 } from "./ipv4.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { decodeSll, decodeSll2 } from "./linux_sll.ts";
import { decodeLoop, decodeNull, decodeRawIp } from "./loopback.ts";
import { Registry } from "./registry.ts";
import { decodeTcp } from "./tcp.ts";
import {
  decodeGeneve,
  decodeGre,
  decodeIpInIp4,
  decodeIpInIp6,
  decodeTeredo,
  decodeVxlan,
} from "./tunnels.ts";
import { decodeUdp } from "./udp.ts";
import { APP_PROTOCOLS } from "./app_protocols.ts";
import { decodeAyiya } from "./ayiya.ts";
import { decodeCiscoMetadata, decodeFabricPath } from "./cisco.ts";
import { decodeGtpU } from "./gtp.ts";
import { decodePbb } from "./ieee8021ah.ts";
import { decodeMpls, decodeMplsOverUdp } from "./mpls.ts";
import { decodePim } from "./pim.ts";
import { decodePppoeSession } from "./pppoe.ts";

/** A new registry with all built-in decoders. */
export function defaultRegistry(): Registry {
  const r = new Registry()
    .registerLinkType(0, decodeNull)
    .registerLinkType(1, decodeEthernet)
    .registerLinkType(12, decodeRawIp) // DLT_RAW as some systems number it
    .registerLinkType(14, decodeRawIp)
    .registerLinkType(101, decodeRawIp)
    .registerLinkType(105, decodeIeee80211)
    .registerLinkType(108, decodeLoop)
    .registerLinkType(113, decodeSll)
    .registerLinkType(127, decodeRadiotap)
    .registerLinkType(228, decodeRawIp)
    .registerLinkType(229, decodeRawIp)
    .registerLinkType(276, decodeSll2)
    .registerEtherType(0x0800, decodeIpv4)
    .registerEtherType(0x86dd, decodeIpv6)
    .registerEtherType(0x0806, decodeArp)
    .registerEtherType(0x8035, decodeArp) // RARP (RFC 903) has the ARP format
    .registerIpProto(1, decodeIcmp)
    .registerIpProto(4, decodeIpInIp4)
    .registerIpProto(6, decodeTcp)
    .registerIpProto(17, decodeUdp)
    .registerIpProto(41, decodeIpInIp6)
    .registerIpProto(47, decodeGre)
    .registerIpProto(58, decodeIcmp6)
    .registerUdpTunnel(4789, decodeVxlan)
    .registerUdpTunnel(6081, decodeGeneve)
    .registerUdpTunnel(3544, decodeTeredo)
    .registerUdpTunnel(4754, decodeGre) // GRE-in-UDP, RFC 8086
    .registerUdpTunnel(2152, decodeGtpU)
    .registerUdpTunnel(5072, decodeAyiya)
    .registerUdpTunnel(6635, decodeMplsOverUdp)
    .registerEtherType(0x8864, decodePppoeSession)
    .registerEtherType(0x8847, decodeMpls)
    .registerEtherType(0x8848, decodeMpls)
    .registerEtherType(0x88e7, decodePbb)
    .registerEtherType(0x8200, decodeIeee80211) // Aruba's GRE carries 802.11 frames with this type
    .registerEtherType(0x8903, decodeFabricPath)
    .registerEtherType(0x8909, decodeCiscoMetadata)
    .registerIpProto(103, decodePim);
  for (const p of APP_PROTOCOLS) r.registerApp(p);
  return r;
}
