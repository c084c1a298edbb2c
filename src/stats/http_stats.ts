/**
 * The `http` section of `netwatch analyze`: requests and responses of HTTP/1.x with the hosts asked
 * for, methods, status codes and user agents. Counts the message heads netwatch decoded (one per
 * segment that starts a request or response); continuation segments are not counted.
 *
 * @module
 */

import type { HttpRecord } from "../decode/http.ts";
import { DEFAULT_MAX_VALUES, DEFAULT_TOP, TopCounter, type TopList } from "./top_counter.ts";

/** The `http` section. */
export interface HttpStatsRecord {
  requests: number;
  responses: number;
  /** `Host` field of requests. */
  hosts: TopList;
  methods: TopList;
  /** Status code of responses, as text (`"200"`). */
  status_codes: TopList;
  /** `User-Agent` field of requests. */
  user_agents: TopList;
  /** `Content-Type` field of responses. */
  content_types: TopList;
}

/** Accumulates HTTP figures from decoded HTTP records. */
export class HttpStats {
  requests = 0;
  responses = 0;
  private readonly hosts: TopCounter;
  private readonly methods: TopCounter;
  private readonly statuses: TopCounter;
  private readonly userAgents: TopCounter;
  private readonly contentTypes: TopCounter;

  /** `maxValues`: distinct values tracked per table (see `DEFAULT_MAX_VALUES`). */
  constructor(maxValues: number = DEFAULT_MAX_VALUES) {
    this.hosts = new TopCounter(maxValues);
    this.methods = new TopCounter(maxValues);
    this.statuses = new TopCounter(maxValues);
    this.userAgents = new TopCounter(maxValues);
    this.contentTypes = new TopCounter(maxValues);
  }

  /** Accounts one HTTP record. */
  add(rec: HttpRecord): void {
    if (rec.continuation) return;
    if (rec.method !== undefined) {
      this.requests++;
      this.methods.add(rec.method);
      if (rec.host !== undefined) this.hosts.add(rec.host.toLowerCase());
      if (rec.user_agent !== undefined) this.userAgents.add(rec.user_agent);
    } else if (rec.status !== undefined) {
      this.responses++;
      this.statuses.add(String(rec.status));
      if (rec.content_type !== undefined) this.contentTypes.add(rec.content_type);
    }
  }

  /** The section as JSON, each list at most `top` long. */
  toJSON(top: number = DEFAULT_TOP): HttpStatsRecord {
    return {
      requests: this.requests,
      responses: this.responses,
      hosts: this.hosts.top(top),
      methods: this.methods.top(top),
      status_codes: this.statuses.top(top),
      user_agents: this.userAgents.top(top),
      content_types: this.contentTypes.top(top),
    };
  }
}
