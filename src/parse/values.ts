/**
 * Parsing of the values a caller (a flow) gives: text and list limits, counts, dates, ids. Every rejection is an
 * InvalidInputError whose message names the field, says what was expected and shows what was got.
 */
import { INPUT_LIMITS, type Range } from '../limits';
import { InvalidInputError } from '../errors';

const MAX_SHOWN = 60;

/**
 * A short, human-readable rendering of any value for error messages (at most ~60 chars). It
 * reads only as much of the value as it shows, so a huge or deeply nested input costs nothing.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)';
  if (typeof value === 'string') {
    return value.length > MAX_SHOWN ? `${JSON.stringify(value.slice(0, MAX_SHOWN))}…` : JSON.stringify(value);
  }
  let text: string;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'symbol') text = 'a symbol';
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'an invalid Date' : `Date ${value.toISOString()}`;
  else text = preview(value, MAX_SHOWN + 1) ?? Object.prototype.toString.call(value);
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return Array.isArray(value) && value.length > 4 ? `${shown} (${value.length.toLocaleString('en-US')} items)` : shown;
}

/** JSON-like text of `value`, stopped once `budget` characters are written; `undefined` for a circular value (as JSON.stringify). */
function preview(value: unknown, budget: number): string | undefined {
  let out = '';
  const path = new Set<object>();
  const write = (part: string): boolean => {
    out += part;
    return out.length < budget;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') {
      let part: string | undefined;
      try { part = typeof v === 'string' ? JSON.stringify(v.slice(0, budget)) : typeof v === 'bigint' ? String(v) : JSON.stringify(v); } catch { part = undefined; }
      return write(part ?? 'null');
    }
    if (depth > 8) return write('…');
    if (path.has(v)) throw new TypeError('circular');
    path.add(v);
    const isArray = Array.isArray(v);
    if (!write(isArray ? '[' : '{')) return false;
    let first = true;
    if (isArray) {
      for (const item of v) {
        if (!first && !write(',')) return false;
        first = false;
        if (!walk(item, depth + 1)) return false;
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (!first && !write(',')) return false;
        first = false;
        if (!write(`${JSON.stringify(key.slice(0, budget))}:`) || !walk((v as Record<string, unknown>)[key], depth + 1)) return false;
      }
    }
    path.delete(v);
    return write(isArray ? ']' : '}');
  };
  try {
    walk(value, 0);
  } catch {
    return undefined;
  }
  return out;
}

export function invalid(what: string, expected: string, got: unknown): InvalidInputError {
  return new InvalidInputError(`${what} must be ${expected}; got ${describeValue(got)}`);
}

const grouped = (n: number): string => n.toLocaleString('en-US');

/**
 * Refuses text longer than `max` characters, naming the limit; called before any pattern runs
 * on the text, so that no input can make a parser slow.
 */
export function limitText(text: string, what: string, max: number = INPUT_LIMITS.shortText): string {
  if (text.length > max) {
    throw new InvalidInputError(`${what} is too long: ${grouped(text.length)} characters, the limit is ${grouped(max)}`);
  }
  return text;
}

/** Refuses a list of more than `max` items, naming the limit. */
export function limitCount<T>(items: T[], what: string, max: number, unit = 'items'): T[] {
  if (items.length > max) throw new InvalidInputError(`${what} has too many ${unit}: ${grouped(items.length)}, the limit is ${grouped(max)}`);
  return items;
}

/**
 * The items of a list given as an array or as comma-separated text (`undefined` for anything
 * else), within the list limits: the text length is checked before it is split, the count
 * before any item is looked at.
 */
export function listItems(input: unknown, what: string, limits: { text?: number; items?: number } = {}): unknown[] | undefined {
  const maxItems = limits.items ?? INPUT_LIMITS.listItems;
  if (typeof input === 'string') {
    limitText(input, what, limits.text ?? INPUT_LIMITS.listText);
    return limitCount(input.split(','), what, maxItems);
  }
  return Array.isArray(input) ? limitCount(input, what, maxItems) : undefined;
}

/**
 * A count setting (max items, max requests): a whole number within `range`, as a number or a
 * string of digits. Booleans, arrays, blanks, fractions and signs are refused (they are not
 * counts); `undefined`, `null` and "" give the range's default.
 */
export function parseCount(input: unknown, what: string, range: Range): number {
  if (input === undefined || input === null || input === '') return range.default;
  const text = typeof input === 'string' ? limitText(input, what, 32).trim() : undefined;
  const value = typeof input === 'number' ? input : text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw invalid(what, `a whole number from ${grouped(range.min)} to ${grouped(range.max)}`, input);
  }
  return value;
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

const DATE_EXPECTED = 'an ISO 8601 date (2021-05-01) or date-time (2021-05-01T10:00:00Z), a Date or epoch milliseconds';
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const MAX_EPOCH_MS = 8.64e15;

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Offset in minutes east of UTC from "Z", "+02", "+0200" or "+02:00"; NaN when out of range. */
function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return Number.NaN;
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function parseIsoString(text: string, what: string): number {
  const m = ISO_DATE.exec(text);
  if (!m) throw invalid(what, DATE_EXPECTED, text);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) => Number(s ?? 0));
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offset = offsetMinutes(m[8]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59 || Number.isNaN(offset)) {
    throw invalid(what, `a real calendar date and time (${DATE_EXPECTED})`, text);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offset, second, ms);
  return date.getTime();
}

/**
 * A point in time as an ISO string (UTC, milliseconds). A date-time without offset is read as UTC,
 * like a plain date.
 */
export function parseDate(input: unknown, what: string): string {
  let time: number;
  if (input instanceof Date) time = input.getTime();
  else if (typeof input === 'number') time = Number.isInteger(input) ? input : Number.NaN;
  else if (typeof input === 'string') time = parseIsoString(limitText(input, what, INPUT_LIMITS.dateText).trim(), what);
  else throw invalid(what, DATE_EXPECTED, input);
  if (!(Math.abs(time) <= MAX_EPOCH_MS)) throw invalid(what, DATE_EXPECTED, input);
  return new Date(time).toISOString();
}

/** Optional start and end dates; when both are given the start must not be after the end. */
export function parseDateRange(start: unknown, end: unknown, what: string): { start?: string; end?: string } {
  const range: { start?: string; end?: string } = {};
  if (!isEmpty(start)) range.start = parseDate(start, `${what} start`);
  if (!isEmpty(end)) range.end = parseDate(end, `${what} end`);
  if (range.start !== undefined && range.end !== undefined && range.start > range.end) {
    throw new InvalidInputError(`${what}: the start (${range.start}) must not be after the end (${range.end})`);
  }
  return range;
}

const ID_EXPECTED = 'a numeric Mapillary id (1 to 20 digits)';

/** A numeric Mapillary id (image, detection, map feature, organization...) as a digit string. */
export function parseId(input: unknown, what: string): string {
  if (typeof input === 'string' && input.length <= INPUT_LIMITS.shortText && /^\d{1,20}$/.test(input.trim())) return input.trim();
  if (typeof input === 'number' && Number.isSafeInteger(input) && input >= 0) return String(input);
  throw invalid(what, ID_EXPECTED, input);
}

/** A non-empty list of ids: an array, a comma-separated string, or a single numeric id. */
export function parseIdList(input: unknown, what: string): string[] {
  const items = typeof input === 'number' ? [input]
    : typeof input === 'string' && input.trim() === '' ? []
    : listItems(input, what);
  if (items === undefined || items.length === 0) {
    throw invalid(what, `a non-empty array or comma-separated list of ids (${ID_EXPECTED})`, input);
  }
  return items.map((item, i) => parseId(item, `${what} (item ${i + 1})`));
}

/** An alphanumeric sequence key such as "7nfcwfvjdtphz7yj6zat6a". */
export function parseSequenceId(input: unknown, what = 'sequence id'): string {
  if (typeof input === 'string' && input.length <= INPUT_LIMITS.shortText && /^[A-Za-z0-9_-]{1,64}$/.test(input.trim())) return input.trim();
  throw invalid(what, 'a sequence key of 1 to 64 letters, digits, "_" or "-"', input);
}

/** A whole number (or numeric string) at least 1 (or 0 with allowZero), within optional bounds. */
export function parsePositiveInt(input: unknown, what: string, opts: { min?: number; max?: number; allowZero?: boolean }): number {
  const low = Math.max(opts.min ?? 0, opts.allowZero ? 0 : 1);
  const high = opts.max ?? Number.MAX_SAFE_INTEGER;
  const value = typeof input === 'number' ? input
    : typeof input === 'string' && input.length <= 32 && /^[+-]?\d+(\.\d*)?$/.test(input.trim()) ? Number(input)
    : Number.NaN;
  if (!Number.isSafeInteger(value) || value < low || value > high) {
    const range = opts.max === undefined ? `at least ${low}` : `from ${low} to ${high}`;
    throw invalid(what, `a whole number ${range}`, input);
  }
  return value;
}
