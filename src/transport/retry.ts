import type { MapillaryError } from '../errors';

/**
 * The retry policy as a small pure function: given the failed attempt, how long to wait before
 * the next one, or `undefined` to give up. The caller supplies the random number for jitter.
 */

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Ceiling of the exponential delay. */
  maxDelayMs: number;
  /** Ceiling applied to a server's `Retry-After`. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

export interface RetryInput {
  /** Attempts made so far (1 after the first failure). */
  attempt: number;
  error: MapillaryError;
  /** The OAuth token POST: never repeated once the server has answered. */
  isTokenRequest?: boolean;
  /** A number in [0, 1) for jitter. */
  random: number;
}

/** Whether an error is worth another attempt at all. */
export function isRetryable(error: MapillaryError, isTokenRequest = false): boolean {
  if (isTokenRequest) return error.code === 'MAPILLARY_NETWORK' && error.status === undefined;
  switch (error.code) {
    case 'MAPILLARY_NETWORK':
    case 'MAPILLARY_TIMEOUT':
    case 'MAPILLARY_RATE_LIMITED':
    case 'MAPILLARY_MALFORMED_RESPONSE':
      return true;
    case 'MAPILLARY_HTTP':
      return error.transient || (error.status !== undefined && (error.status === 429 || error.status >= 500));
    case 'MAPILLARY_TOO_MUCH_DATA':
      // Asking again for the same data does not make it smaller: the caller splits instead.
      return false;
    default:
      return error.transient;
  }
}

/** Milliseconds to wait before the next attempt, or `undefined` to give up. */
export function retryDelay(input: RetryInput, options: RetryOptions = DEFAULT_RETRY): number | undefined {
  const { attempt, error } = input;
  if (attempt >= options.maxAttempts || !isRetryable(error, input.isTokenRequest)) return undefined;
  if (error.retryAfterMs !== undefined) return Math.min(Math.max(0, error.retryAfterMs), options.maxRetryAfterMs);
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  // "Equal jitter": never less than half the step, so back-off still grows.
  return Math.round(exponential / 2 + (exponential / 2) * input.random);
}

/** `Retry-After` as delta seconds or an HTTP date; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
