import type { MapillaryError } from '../errors';

/** Told to `onRetry` before the client waits and tries again. */
export interface RetryInfo {
  endpoint: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  error: MapillaryError;
}

/** Options of a single call. */
export interface CallOptions {
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  /** At most this many attempts for this call (never more than the client's retry policy allows). */
  attempts?: number;
}
