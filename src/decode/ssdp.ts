/**
 * SSDP (UPnP discovery, UDP port 1900): HTTP/1.1 messages carried in UDP datagrams (`NOTIFY`,
 * `M-SEARCH`, and `HTTP/1.1 200 OK` answers). They are decoded by the HTTP decoder and shown as `http`,
 * as Wireshark does.
 *
 * @module
 */

import type { AppProtocol } from "./app.ts";
import { decodeHttp, type HttpRecord } from "./http.ts";

/** HTTP over UDP port 1900. */
export const ssdpProtocol: AppProtocol<HttpRecord> = {
  name: "http",
  ports: { udp: [1900] },
  decode: decodeHttp,
};
