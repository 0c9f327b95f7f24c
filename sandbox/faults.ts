/**
 * Fault injection: scripted faults (`inject`), seeded random faults, and how each kind is served.
 */
import type { ServerResponse } from 'node:http';
import { mulberry32 } from './data';
import { errors, writeReply } from './http';

export const FAULT_KINDS = ['429', '403-4', '500-1', '5xx', 'reset', 'slow', 'malformed', 'truncated', '401-190', '400-query-timeout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which requests a fault applies to; unset fields match everything. */
export interface FaultTarget {
  /** Compared with the path without its API prefix ('/images') and with the full path ('/graph/images'). */
  path?: string | RegExp;
  method?: string;
}

export interface Fault extends FaultTarget {
  kind: FaultKind;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  /** Seconds or an HTTP date, sent as Retry-After. */
  retryAfter?: number | string;
  /** Wait this long before serving the fault ('slow': before answering normally; default 2000). */
  delayMs?: number;
}

export interface RandomFaults {
  /** Fraction of matching requests that get a fault. */
  rate: number;
  kinds: FaultKind[];
  seed: number;
  path?: string | RegExp;
  /** Sent as Retry-After with every random fault. */
  retryAfter?: number | string;
}

export const SLOW_DEFAULT_MS = 2000;

export class FaultPlan {
  /** Faults served so far, by kind. */
  readonly served = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  private scripted: Array<{ fault: Fault; left: number }> = [];
  private random: Array<{ options: RandomFaults; rand: () => number }> = [];

  inject(fault: Fault): void {
    if (!FAULT_KINDS.includes(fault.kind)) throw new TypeError(`unknown fault kind '${String(fault.kind)}'`);
    this.scripted.push({ fault, left: fault.times ?? 1 });
  }

  addRandom(options: RandomFaults): void {
    const unknown = options.kinds.find((kind) => !FAULT_KINDS.includes(kind));
    if (unknown !== undefined || options.kinds.length === 0) throw new TypeError(`bad fault kinds ${JSON.stringify(options.kinds)}`);
    this.random.push({ options, rand: mulberry32(options.seed) });
  }

  clear(): void {
    this.scripted = [];
    this.random = [];
  }

  resetCounts(): void {
    for (const kind of FAULT_KINDS) this.served[kind] = 0;
  }

  /** The fault for this request, if any; scripted faults first, in order of injection. */
  take(method: string, fullPath: string, path: string): Fault | undefined {
    const matches = (target: FaultTarget): boolean =>
      (target.method === undefined || target.method.toUpperCase() === method) &&
      (target.path === undefined ||
        (typeof target.path === 'string' ? [path, fullPath].includes(target.path) : target.path.test(path) || target.path.test(fullPath)));
    let fault: Fault | undefined;
    const entry = this.scripted.find((e) => matches(e.fault));
    if (entry) {
      fault = entry.fault;
      if (--entry.left <= 0) this.scripted.splice(this.scripted.indexOf(entry), 1);
    } else {
      const hit = this.random.find(({ options, rand }) => matches(options) && rand() < options.rate);
      if (hit) fault = { kind: hit.options.kinds[Math.floor(hit.rand() * hit.options.kinds.length)], retryAfter: hit.options.retryAfter };
    }
    if (fault) this.served[fault.kind]++;
    return fault;
  }
}

const BAD_GATEWAY_HTML = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

/** Answer (or not) with a fault other than 'slow'. */
export function serveFault(res: ServerResponse, fault: Fault, served: number): void {
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) };
  switch (fault.kind) {
    case '429': return writeReply(res, errors.requestLimit(429).reply, headers);
    case '403-4': return writeReply(res, errors.requestLimit(403).reply, headers);
    case '500-1': return writeReply(res, errors.tooMuchData().reply, headers);
    case '401-190': return writeReply(res, errors.invalidToken().reply, headers);
    case '400-query-timeout': return writeReply(res, errors.queryTimeout().reply, headers);
    case '5xx': // alternately a proxy's HTML 502 and an empty 503
      return writeReply(res, served % 2 === 1
        ? { status: 502, headers: { 'Content-Type': 'text/html' }, body: BAD_GATEWAY_HTML }
        : { status: 503, body: '' }, headers);
    case 'malformed':
      return writeReply(res, { status: 200, headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: '{"data":[{"id":"1"},{"id":' }, headers);
    case 'truncated': {
      const body = JSON.stringify({ data: Array.from({ length: 50 }, (_, i) => ({ id: String(1000 + i) })) });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': String(body.length), ...headers });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    case 'reset':
      res.destroy();
  }
}
