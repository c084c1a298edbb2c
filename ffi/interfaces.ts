/**
 * The capture devices libpcap knows (`pcap_findalldevs`), with their addresses, flags and, when this
 * process may open them, the link types they offer.
 *
 * @module
 */

import { hexByte, ipv4String, ipv6String } from "../src/decode/_bytes.ts";
import { loadLibpcap } from "./load.ts";
import {
  cString,
  dltToLinkType,
  errbufText,
  type LibpcapSymbols,
  newErrbuf,
  PCAP_ADDR,
  PCAP_ERROR_PERM_DENIED,
  PCAP_IF,
  PCAP_IF_CONNECTION_STATUS,
  PCAP_IF_CONNECTION_STATUS_CONNECTED,
  PCAP_IF_CONNECTION_STATUS_DISCONNECTED,
  PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE,
  PCAP_IF_LOOPBACK,
  PCAP_IF_RUNNING,
  PCAP_IF_UP,
  PCAP_IF_WIRELESS,
  pcapErrorText,
  readAddress,
  readCString,
} from "./libpcap.ts";
import { PcapError } from "./pcap_error.ts";

/** One address of an interface. */
export interface InterfaceAddress {
  family: "ipv4" | "ipv6" | "link";
  /** Dotted quad, RFC 5952 IPv6, or colon-separated hardware address. */
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

/** A link type a device can deliver. */
export interface LinkTypeInfo {
  /** LINKTYPE_* value (as in capture files and `Frame.linkType`). */
  value: number;
  /** libpcap's short name, e.g. `"EN10MB"`. */
  name?: string;
  /** libpcap's description, e.g. `"Ethernet"`. */
  description?: string;
}

/** One capture device. */
export interface InterfaceRecord {
  name: string;
  description?: string;
  addresses: InterfaceAddress[];
  flags: {
    up: boolean;
    running: boolean;
    loopback: boolean;
    wireless: boolean;
    connection_status: "unknown" | "connected" | "disconnected" | "not_applicable";
  };
  /** Present when the device was opened to ask; the first is the default. */
  link_types?: LinkTypeInfo[];
  /** Why `link_types` is absent. */
  link_types_note?: string;
}

/** Options of {@linkcode listInterfaces}. */
export interface ListInterfacesOptions {
  /**
   * Open each device (`pcap_create` + `pcap_activate`) to list its link types (default true). Needs
   * capture rights; without them every device gets a `link_types_note` instead.
   */
  linkTypes?: boolean;
  /** Library path to open instead of the usual names. */
  libraryPath?: string;
}

/**
 * Pseudo-devices whose activation is not a harmless probe: binding NFQUEUE queue 0 would take packets
 * from a firewall, NFLOG group 0 from a logger, and a D-Bus capture registers as a bus monitor.
 */
const NO_PROBE = /^(nfqueue|nflog|dbus-)/;

type Os = typeof Deno.build.os;

/** Address family numbers per platform (they differ for IPv6 and the link layer). */
function families(os: Os): { inet: number; inet6: number; link: number } {
  switch (os) {
    case "linux":
    case "android":
      return { inet: 2, inet6: 10, link: 17 }; // AF_PACKET
    case "windows":
      return { inet: 2, inet6: 23, link: -1 };
    case "darwin":
      return { inet: 2, inet6: 30, link: 18 }; // AF_LINK
    case "freebsd":
      return { inet: 2, inet6: 28, link: 18 };
    default: // NetBSD
      return { inet: 2, inet6: 24, link: 18 };
  }
}

/** BSD-derived systems start every sockaddr with `sa_len` (u8) and keep `sa_family` as a u8 after it. */
function hasSaLen(os: Os): boolean {
  return os === "darwin" || os === "freebsd" || os === "netbsd";
}

/** `sa_family` of the sockaddr in `b` (at least 2 bytes). */
function familyOf(b: Uint8Array, os: Os): number {
  // Linux and Windows: u16 in host (little-endian) order at offset 0.
  return hasSaLen(os) ? b[1] : b[0] | (b[1] << 8);
}

function colonHex(b: Uint8Array, off: number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += (i === 0 ? "" : ":") + hexByte(b[off + i]);
  return s;
}

/**
 * Decodes a copied `struct sockaddr` for `os`. Returns undefined for families netwatch does not report
 * and for sockaddrs too short for their family. Never throws.
 *
 * Layouts: `sockaddr_in` address at 4; `sockaddr_in6` at 8; Linux `sockaddr_ll` has `sll_halen` at 11
 * and the address at 12; BSD `sockaddr_dl` has `sdl_nlen` at 5, `sdl_alen` at 6 and the name then the
 * address from 8.
 */
export function parseSockaddr(
  b: Uint8Array,
  os: Os = Deno.build.os,
): { family: InterfaceAddress["family"]; addr: string } | undefined {
  if (b.length < 2) return undefined;
  const fam = families(os);
  const family = familyOf(b, os);
  if (family === fam.inet) {
    return b.length >= 8 ? { family: "ipv4", addr: ipv4String(b, 4) } : undefined;
  }
  if (family === fam.inet6) {
    return b.length >= 24 ? { family: "ipv6", addr: ipv6String(b, 8) } : undefined;
  }
  if (family !== fam.link) return undefined;
  if (hasSaLen(os)) {
    if (b.length < 8) return undefined;
    const nlen = b[5], alen = b[6];
    if (alen === 0 || 8 + nlen + alen > b.length) return undefined;
    return { family: "link", addr: colonHex(b, 8 + nlen, alen) };
  }
  if (b.length < 12) return undefined;
  const halen = b[11];
  if (halen === 0 || halen > 8 || 12 + halen > b.length) return undefined;
  return { family: "link", addr: colonHex(b, 12, halen) };
}

/** Bytes to copy for the sockaddr at `ptr`, from its own length field or its family. */
function sockaddrSize(ptr: Deno.PointerObject, os: Os): number {
  const view = new Deno.UnsafePointerView(ptr);
  if (hasSaLen(os)) return Math.max(2, view.getUint8(0));
  const family = view.getUint16(0);
  const fam = families(os);
  if (family === fam.inet) return 16;
  if (family === fam.inet6) return 28;
  if (family === fam.link) return 20; // sizeof(struct sockaddr_ll)
  return 2;
}

function readSockaddr(ptr: Deno.PointerValue, os: Os) {
  if (ptr === null) return undefined;
  const bytes = new Uint8Array(sockaddrSize(ptr, os));
  Deno.UnsafePointerView.copyInto(ptr, bytes);
  return parseSockaddr(bytes, os);
}

function connectionStatus(flags: number): InterfaceRecord["flags"]["connection_status"] {
  switch (flags & PCAP_IF_CONNECTION_STATUS) {
    case PCAP_IF_CONNECTION_STATUS_CONNECTED:
      return "connected";
    case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
      return "disconnected";
    case PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE:
      return "not_applicable";
    default:
      return "unknown";
  }
}

/** Link types of `name`, or the reason they could not be read. */
function probeLinkTypes(
  sym: LibpcapSymbols,
  name: string,
): { types: LinkTypeInfo[] } | { note: string; denied?: boolean } {
  const errbuf = newErrbuf();
  const p = sym.pcap_create(cString(name, "device name"), errbuf);
  if (p === null) return { note: `not probed: ${errbufText(errbuf)}` };
  try {
    // The smallest buffer that works: we only ask the device a question.
    sym.pcap_set_snaplen(p, 128);
    sym.pcap_set_buffer_size(p, 65536);
    const status = sym.pcap_activate(p);
    if (status < 0) {
      const text = pcapErrorText(sym, p, status);
      return status === PCAP_ERROR_PERM_DENIED
        ? { note: `not probed: no permission to open devices (${text})`, denied: true }
        : { note: `not probed: ${text}` };
    }
    const out = new Uint32Array(2);
    const count = sym.pcap_list_datalinks(p, new Uint8Array(out.buffer));
    if (count < 0) return { note: `not probed: ${pcapErrorText(sym, p, count)}` };
    const list = Deno.UnsafePointer.create(BigInt(readAddress(out, 0)));
    const types: LinkTypeInfo[] = [];
    if (list !== null) {
      const view = new Deno.UnsafePointerView(list);
      for (let i = 0; i < count; i++) types.push(linkTypeInfo(sym, view.getInt32(i * 4)));
      sym.pcap_free_datalinks(list);
    }
    // pcap_list_datalinks order is arbitrary; the default (pcap_datalink) goes first.
    const current = dltToLinkType(sym.pcap_datalink(p));
    types.sort((a, b) => (a.value === current ? -1 : b.value === current ? 1 : 0));
    return { types };
  } finally {
    sym.pcap_close(p);
  }
}

function linkTypeInfo(sym: LibpcapSymbols, dlt: number): LinkTypeInfo {
  const info: LinkTypeInfo = { value: dltToLinkType(dlt) };
  const name = readCString(sym.pcap_datalink_val_to_name(dlt));
  const description = readCString(sym.pcap_datalink_val_to_description(dlt));
  if (name) info.name = name;
  if (description) info.description = description;
  return info;
}

/**
 * Lists capture devices in libpcap's order (the first is the default device). Listing needs no
 * privileges; link types are read by opening each device, which does, so without capture rights each
 * record carries a `link_types_note` instead of `link_types`. Throws a `PcapError` when libpcap fails.
 */
export function listInterfaces(options: ListInterfacesOptions = {}): InterfaceRecord[] {
  const { linkTypes = true } = options;
  const sym = loadLibpcap(options.libraryPath).symbols;
  const os = Deno.build.os;
  const out = new Uint32Array(2);
  const errbuf = newErrbuf();
  if (sym.pcap_findalldevs(new Uint8Array(out.buffer), errbuf) !== 0) {
    const text = errbufText(errbuf);
    throw new PcapError("error", `Cannot list capture devices: ${text}`, { pcapText: text });
  }
  const records: InterfaceRecord[] = [];
  const head = Deno.UnsafePointer.create(BigInt(readAddress(out, 0)));
  try {
    for (let dev = head; dev !== null;) {
      const v = new Deno.UnsafePointerView(dev);
      const flags = v.getUint32(PCAP_IF.flags);
      const description = readCString(v.getPointer(PCAP_IF.description));
      const record: InterfaceRecord = {
        name: readCString(v.getPointer(PCAP_IF.name)),
        ...(description ? { description } : {}),
        addresses: [],
        flags: {
          up: (flags & PCAP_IF_UP) !== 0,
          running: (flags & PCAP_IF_RUNNING) !== 0,
          loopback: (flags & PCAP_IF_LOOPBACK) !== 0,
          wireless: (flags & PCAP_IF_WIRELESS) !== 0,
          connection_status: connectionStatus(flags),
        },
      };
      for (let a = v.getPointer(PCAP_IF.addresses); a !== null;) {
        const av = new Deno.UnsafePointerView(a);
        const addr = readSockaddr(av.getPointer(PCAP_ADDR.addr), os);
        if (addr) {
          const entry: InterfaceAddress = { family: addr.family, addr: addr.addr };
          // A companion of another family (e.g. a netmask libpcap could not fill in) says nothing here.
          const netmask = readSockaddr(av.getPointer(PCAP_ADDR.netmask), os);
          const broadaddr = readSockaddr(av.getPointer(PCAP_ADDR.broadaddr), os);
          const dstaddr = readSockaddr(av.getPointer(PCAP_ADDR.dstaddr), os);
          if (netmask?.family === addr.family) entry.netmask = netmask.addr;
          if (broadaddr?.family === addr.family) entry.broadaddr = broadaddr.addr;
          if (dstaddr?.family === addr.family) entry.dstaddr = dstaddr.addr;
          record.addresses.push(entry);
        }
        a = av.getPointer(PCAP_ADDR.next);
      }
      records.push(record);
      dev = v.getPointer(PCAP_IF.next);
    }
  } finally {
    if (head !== null) sym.pcap_freealldevs(head);
  }
  if (linkTypes) addLinkTypes(sym, records);
  return records;
}

function addLinkTypes(sym: LibpcapSymbols, records: InterfaceRecord[]): void {
  let denied: string | undefined;
  for (const record of records) {
    if (denied !== undefined) {
      record.link_types_note = denied; // one refusal means all: don't ask every device again
      continue;
    }
    if (NO_PROBE.test(record.name)) {
      record.link_types_note = "not probed: opening this pseudo-device has side effects";
      continue;
    }
    const result = probeLinkTypes(sym, record.name);
    if ("types" in result) {
      record.link_types = result.types;
    } else {
      record.link_types_note = result.note;
      if (result.denied) denied = result.note;
    }
  }
}
