/**
 * Shared pieces of the sandbox routes: replies, the Graph API error envelope and the parsing
 * of query parameters (which throws ParamError; each API wraps it in its own error format).
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BBox } from './data';

export interface Reply { status: number; headers?: Record<string, string>; body?: string | Buffer }

/** Thrown by route code to answer with `reply`. */
export class HttpError extends Error {
  constructor(readonly reply: Reply) { super(`HTTP ${reply.status}`); }
}

/** A bad query parameter; the message is shown to the caller. */
export class ParamError extends Error {}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'application/json; charset=UTF-8', ...headers }, body: JSON.stringify(value) };
}

export function writeReply(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  res.writeHead(reply.status, { ...reply.headers, ...headers });
  res.end(reply.body ?? '');
}

let traces = 0;
/** A fresh fbtrace_id-looking string (deterministic per process). */
const traceId = (): string => createHash('sha1').update(`trace:${++traces}`).digest('base64url').slice(0, 23);

/** The v4 error envelope `{"error":{"message","type","code",...,"fbtrace_id"}}`. */
export function graphError(status: number, code: number, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(json(status, { error: { message, type: 'MLYApiException', code, ...extra, fbtrace_id: traceId() } }));
}

export const errors = {
  invalidToken: (status = 401) => graphError(status, 190, 'Invalid OAuth 2.0 Access Token', { error_data: {} }),
  badParameter: (message: string) => graphError(400, 100, message),
  unknownId: (id: string) => graphError(400, 100,
    `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
    { error_subcode: 33 }),
  tooMuchData: () => graphError(500, 1, "Please reduce the amount of data you're asking for, then retry your request"),
  requestLimit: (status: number) => graphError(status, 4, 'Application request limit reached', { is_transient: true }),
  /** Mapillary's query timeout in dense areas: HTTP 400, code -2, subcode 3404014, and (wrongly) not transient. */
  queryTimeout: () => graphError(400, -2, 'Query timed out. Please retry, or reduce the amount of data you are asking for.', { error_subcode: 3404014, is_transient: false }),
};

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `minLon,minLat,maxLon,maxLat`; a box crossing the antimeridian is refused (split it). */
export function parseBBox(text: string): BBox {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 4 || !parts.every((p) => NUMBER.test(p))) throw new ParamError(`Invalid bbox '${text}': expected minLon,minLat,maxLon,maxLat`);
  const [w, s, e, n] = parts.map(Number);
  if (w < -180 || e > 180 || s < -90 || n > 90 || w > e || s > n) throw new ParamError(`Invalid bbox '${text}': coordinates out of range or min greater than max`);
  return [w, s, e, n];
}

/** The v4 rule: a search box must cover less than 0.01 square degrees. */
export function checkArea([w, s, e, n]: BBox): void {
  if ((e - w) * (n - s) >= 0.01) throw new ParamError('The bbox area is too large: it must be smaller than 0.01 square degrees');
}

export function parseList(text: string | null): string[] | undefined {
  return text === null ? undefined : text.split(',').map((v) => v.trim()).filter(Boolean);
}

/** An ISO 8601 date or date-time (no zone means UTC), as epoch ms. */
export function parseTime(text: string | null, name: string): number | undefined {
  if (text === null) return undefined;
  const ms = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new ParamError(`Invalid ${name} '${text}': expected an ISO 8601 date`);
  return ms;
}

export function parseBool(text: string | null, name: string): boolean | undefined {
  if (text === null) return undefined;
  if (text !== 'true' && text !== 'false') throw new ParamError(`Invalid ${name} '${text}': expected true or false`);
  return text === 'true';
}

export function parseLimit(text: string | null, name: string, max: number, fallback: number): number {
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= max)) throw new ParamError(`Invalid ${name} '${text}': expected an integer from 1 to ${max}`);
  return value;
}

/** Matcher for a list of values where `*` is a wildcard (`regulatory--*`). */
export function globMatcher(patterns: string[]): (value: string) => boolean {
  const regexps = patterns.map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (value) => regexps.some((r) => r.test(value));
}

/** Opaque paging cursors (an offset inside). */
export const cursor = {
  encode: (offset: number): string => Buffer.from(`sandbox-offset:${offset}`).toString('base64url'),
  decode(text: string): number {
    const match = /^sandbox-offset:(\d+)$/.exec(Buffer.from(text, 'base64url').toString());
    if (!match) throw new ParamError(`Invalid cursor '${text}'`);
    return Number(match[1]);
  },
};


export const newestFirst = <T extends { id: string }>(time: (item: T) => number) =>
  (a: T, b: T): number => time(b) - time(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
