/**
 * The `tls` section of `netwatch analyze`: the cleartext handshake facts of TLS (and of QUIC's
 * ClientHello): server names, versions and JA3/JA3S/JA4 fingerprints, each with its count of hellos.
 *
 * @module
 */

import type { QuicRecord } from "../decode/quic.ts";
import type { TlsRecord } from "../decode/tls.ts";
import { DEFAULT_MAX_VALUES, DEFAULT_TOP, TopCounter, type TopList } from "./top_counter.ts";

/** The `tls` section. */
export interface TlsStatsRecord {
  /** ClientHello and ServerHello messages seen over TCP. */
  client_hellos: number;
  server_hellos: number;
  /** QUIC Initial packets whose ClientHello was decoded (SNI and JA4 counted below too). */
  quic_client_hellos: number;
  /** server_name of ClientHellos. */
  sni: TopList;
  /** Versions the servers chose (ServerHello). */
  versions: TopList;
  /** Highest versions the clients offered (ClientHello). */
  client_versions: TopList;
  ja3: TopList;
  ja3s: TopList;
  ja4: TopList;
}

/** Accumulates TLS figures from decoded TLS and QUIC records. */
export class TlsStats {
  clientHellos = 0;
  serverHellos = 0;
  quicClientHellos = 0;
  private readonly sni: TopCounter;
  private readonly versions: TopCounter;
  private readonly clientVersions: TopCounter;
  private readonly ja3: TopCounter;
  private readonly ja3s: TopCounter;
  private readonly ja4: TopCounter;

  /** `maxValues`: distinct values tracked per table (see `DEFAULT_MAX_VALUES`). */
  constructor(maxValues: number = DEFAULT_MAX_VALUES) {
    this.sni = new TopCounter(maxValues);
    this.versions = new TopCounter(maxValues);
    this.clientVersions = new TopCounter(maxValues);
    this.ja3 = new TopCounter(maxValues);
    this.ja3s = new TopCounter(maxValues);
    this.ja4 = new TopCounter(maxValues);
  }

  /** Accounts one TLS record (one segment's records). */
  add(rec: TlsRecord): void {
    if (rec.handshake === "client_hello") {
      this.clientHellos++;
      if (rec.sni !== undefined) this.sni.add(rec.sni.toLowerCase());
      if (rec.version !== undefined) this.clientVersions.add(rec.version);
    } else if (rec.handshake === "server_hello") {
      this.serverHellos++;
      if (rec.version !== undefined) this.versions.add(rec.version);
    }
    if (rec.ja3 !== undefined) this.ja3.add(rec.ja3);
    if (rec.ja3s !== undefined) this.ja3s.add(rec.ja3s);
    if (rec.ja4 !== undefined) this.ja4.add(rec.ja4);
  }

  /** Accounts one QUIC record: only a decoded ClientHello (SNI or JA4 present) counts. */
  addQuic(rec: QuicRecord): void {
    if (rec.sni === undefined && rec.ja4 === undefined) return;
    this.quicClientHellos++;
    if (rec.sni !== undefined) this.sni.add(rec.sni.toLowerCase());
    if (rec.ja4 !== undefined) this.ja4.add(rec.ja4);
  }

  /** The section as JSON, each list at most `top` long. */
  toJSON(top: number = DEFAULT_TOP): TlsStatsRecord {
    return {
      client_hellos: this.clientHellos,
      server_hellos: this.serverHellos,
      quic_client_hellos: this.quicClientHellos,
      sni: this.sni.top(top),
      versions: this.versions.top(top),
      client_versions: this.clientVersions.top(top),
      ja3: this.ja3.top(top),
      ja3s: this.ja3s.top(top),
      ja4: this.ja4.top(top),
    };
  }
}
