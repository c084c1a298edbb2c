/**
 * The decoded layers of one packet. Each layer is a small record made only when the layer is present;
 * addresses are kept as offsets into the packet bytes and turned into strings only when asked for
 * (`toJSON` or a getter), so decoding a packet for statistics allocates no strings.
 *
 * @module
 */

import { ipv4String, ipv6String, macString } from "./_bytes.ts";

/** Ethernet II / 802.3 header. RFC 894; IEEE 802.3. */
export class EthernetLayer {
  constructor(readonly bytes: Uint8Array, readonly off: number, readonly type: number) {}
  get dst(): string {
    return macString(this.bytes, this.off);
  }
  get src(): string {
    return macString(this.bytes, this.off + 6);
  }
  toJSON(): object {
    return { src: this.src, dst: this.dst, type: this.type };
  }
}

/** ARP for IPv4 over Ethernet (RFC 826); other hardware/protocol types keep only `op`. */
export class ArpLayer {
  constructor(
    readonly bytes: Uint8Array,
    readonly off: number,
    readonly op: number,
    readonly hlen: number,
    readonly plen: number,
  ) {}
  get sha(): string | undefined {
    return this.hlen === 6 ? macString(this.bytes, this.off + 8) : undefined;
  }
  get spa(): string | undefined {
    return this.plen === 4 ? ipv4String(this.bytes, this.off + 8 + this.hlen) : undefined;
  }
  get tha(): string | undefined {
    return this.hlen === 6 ? macString(this.bytes, this.off + 8 + this.hlen + this.plen) : undefined;
  }
  get tpa(): string | undefined {
    return this.plen === 4 ? ipv4String(this.bytes, this.off + 8 + 2 * this.hlen + this.plen) : undefined;
  }
  toJSON(): object {
    return { op: this.op, sha: this.sha, spa: this.spa, tha: this.tha, tpa: this.tpa };
  }
}

/** An IPv4 (RFC 791) or IPv6 (RFC 8200) header, in one shape so that consumers need not care which. */
export class IpLayer {
  /** Final upper-layer protocol (after IPv6 extension headers). */
  proto = 0;
  /** IPv6 extension headers seen, by next-header number, in order. */
  ext: number[] | undefined = undefined;
  /** IPv4 options present (header longer than 20 bytes). */
  optionsLen = 0;
  /** Set on the fragment that completed a reassembled datagram: the datagram's payload length. */
  reassembledLen: number | undefined = undefined;
  constructor(
    readonly bytes: Uint8Array,
    /** Offset of the source address. */
    readonly addrOff: number,
    readonly v: 4 | 6,
    readonly ttl: number,
    readonly id: number,
    readonly df: boolean,
    readonly mf: boolean,
    /** Fragment offset in bytes. */
    readonly fragOffset: number,
    /** Payload length claimed by the header (total length minus header for IPv4); the whole datagram's once reassembled. */
    public payloadLen: number,
  ) {}
  get src(): string {
    return this.v === 4 ? ipv4String(this.bytes, this.addrOff) : ipv6String(this.bytes, this.addrOff);
  }
  get dst(): string {
    return this.v === 4
      ? ipv4String(this.bytes, this.addrOff + 4)
      : ipv6String(this.bytes, this.addrOff + 16);
  }
  /** True for any fragment (not only the first). */
  get fragment(): boolean {
    return this.mf || this.fragOffset > 0;
  }
  toJSON(): object {
    return {
      v: this.v,
      src: this.src,
      dst: this.dst,
      proto: this.proto,
      ttl: this.ttl,
      // IPv6 has no identification field; its fragment header's identification is shown when present.
      id: this.v === 4 || this.fragment ? this.id : undefined,
      df: this.df,
      mf: this.mf,
      frag_offset: this.fragOffset,
      ext: this.ext,
      options_len: this.optionsLen || undefined,
      reassembled_len: this.reassembledLen,
    };
  }
}

/** TCP options that analysis uses (RFC 9293, RFC 7323, RFC 2018). */
export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sack_perm?: boolean;
  sack?: number[];
  ts?: [number, number];
}

/** A TCP header (RFC 9293). `flags` are the 12 flag bits as tshark's `tcp.flags`. */
export class TcpLayer {
  options: TcpOptions | undefined = undefined;
  constructor(
    readonly sport: number,
    readonly dport: number,
    readonly seq: number,
    readonly ack: number,
    readonly flags: number,
    readonly win: number,
    readonly hlen: number,
    /** Payload bytes according to the IP length (what the wire carried), not the captured bytes. */
    readonly len: number,
    /** Offset of the payload in the packet bytes. */
    readonly payloadOff: number,
    /** Captured payload bytes available. */
    readonly payloadCaplen: number,
  ) {}
  toJSON(): object {
    return {
      sport: this.sport,
      dport: this.dport,
      seq: this.seq,
      ack: this.ack,
      flags: this.flags,
      win: this.win,
      len: this.len,
      options: this.options,
    };
  }
}

/** TCP flag bits. */
export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20;

/** A UDP header (RFC 768). `len` is the header's length field. */
export class UdpLayer {
  constructor(
    readonly sport: number,
    readonly dport: number,
    readonly len: number,
    readonly payloadOff: number,
    readonly payloadCaplen: number,
  ) {}
  toJSON(): object {
    return { sport: this.sport, dport: this.dport, len: this.len };
  }
}

/** ICMP (RFC 792) or ICMPv6 (RFC 4443) message. */
export class IcmpLayer {
  /** Echo identifier and sequence, for echo request/reply. */
  id: number | undefined = undefined;
  seq: number | undefined = undefined;
  /** Neighbour discovery target or other address carried by the message. */
  target: string | undefined = undefined;
  /** Link-layer address option of neighbour discovery. */
  lladdr: string | undefined = undefined;
  /** The invoking packet quoted by an error message, decoded. */
  quoted: LayerSet | undefined = undefined;
  constructor(
    readonly type: number,
    readonly code: number,
    /** Offset and length of the data after the 8-byte header (echo payload, quoted packet). */
    readonly dataOff: number,
    readonly dataLen: number,
  ) {}
  toJSON(): object {
    return {
      type: this.type,
      code: this.code,
      id: this.id,
      seq: this.seq,
      target: this.target,
      lladdr: this.lladdr,
      data_len: this.dataLen || undefined,
      quoted: this.quoted,
    };
  }
}

/** A tunnel header that carried an inner packet (GRE, VXLAN, Geneve, IP-in-IP). */
export interface TunnelInfo {
  type: "gre" | "vxlan" | "geneve" | "ipip" | "teredo" | "gtp" | "ayiya" | "mpls_pw" | "mpls_udp" | "pim";
  /** GRE protocol type, VXLAN network identifier, ... */
  proto?: number;
  vni?: number;
  key?: number;
}

/** The layers found in a packet (or inside a tunnel, under `inner`). */
export interface LayerSet {
  eth?: EthernetLayer;
  vlan?: number[];
  arp?: ArpLayer;
  ip?: IpLayer;
  tunnel?: TunnelInfo;
  tcp?: TcpLayer;
  udp?: UdpLayer;
  icmp?: IcmpLayer;
  icmp6?: IcmpLayer;
  /** Application protocol name (`dns`, `http`, `tls`, ...) when one was decoded. */
  app?: string;
  /** The application record, kept under `app`'s name in JSON. */
  appRecord?: object;
  inner?: LayerSet;
  /** 802.11 / radiotap summary for wireless captures. */
  wlan?: object;
  /** Linux cooked capture header summary. */
  sll?: object;
}
