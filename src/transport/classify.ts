import {
  AuthError, BadRequestError, HttpError, type MapillaryError, type MapillaryErrorDetails,
  NotFoundError, RateLimitError, TimeoutError, TooMuchDataError,
} from '../errors';
import { parseRetryAfter } from './retry';

/** Mapillary's error envelope, v4 `{"error":{...}}` or v3 `{"message": ...}`. */
interface ErrorBody {
  message?: string;
  code?: number;
  subcode?: number;
  transient?: boolean;
  fbtraceId?: string;
}

function readErrorBody(text: string): ErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object') return {};
  const root = parsed as Record<string, unknown>;
  const error = (root.error !== null && typeof root.error === 'object' ? root.error : root) as Record<string, unknown>;
  return {
    message: typeof error.message === 'string' ? error.message : undefined,
    code: typeof error.code === 'number' ? error.code : undefined,
    subcode: typeof error.error_subcode === 'number' ? error.error_subcode : undefined,
    transient: error.is_transient === true,
    fbtraceId: typeof error.fbtrace_id === 'string' ? error.fbtrace_id : undefined,
  };
}

/** Mapillary's `error_subcode` of a query that timed out on its side (with code -2, HTTP 400). */
export const QUERY_TIMEOUT_SUBCODE = 3404014;

/** Whether an error is Mapillary's own query timeout (code -2), which a smaller query avoids. */
export function isQueryTimeout(error: MapillaryError): boolean {
  return error.mapillaryCode === -2;
}

/** Replaces every secret found in `text` (tokens echoed back by a server, say). */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/**
 * Turns a non-2xx answer into the error class for it. Mapillary signals rate limits as code 4
 * on 403 as well as 429, and "too much data" as code 1 (usually on 500).
 */
export function errorFromResponse(
  endpoint: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  secrets: readonly (string | undefined)[],
): MapillaryError {
  const body = readErrorBody(bodyText);
  const serverMessage = redact((body.message ?? '').slice(0, 300), secrets).trim();
  const codePart = body.code === undefined ? '' : `, code ${body.code}`;
  const message = `Mapillary ${endpoint} failed: ${serverMessage || `HTTP ${status}`} (HTTP ${status}${codePart})`;
  const details: MapillaryErrorDetails = {
    endpoint,
    status,
    mapillaryCode: body.code,
    subcode: body.subcode,
    transient: body.transient || status === 429 || body.code === 4,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
    fbtraceId: body.fbtraceId,
  };
  if (body.code === 4 || status === 429) return new RateLimitError(message, details);
  if (body.code === 190 || status === 401) return new AuthError(message, details);
  if (body.code === 1) return new TooMuchDataError(message, details);
  // Code -2 (subcode 3404014: a query timeout in a dense area) says is_transient false, yet the
  // same request succeeds when asked again: it is retried, and an area cell that keeps timing
  // out is split like a code 1 refusal.
  if (body.code === -2) {
    const transient = { ...details, transient: true };
    return body.subcode === QUERY_TIMEOUT_SUBCODE ? new TimeoutError(message, transient) : new HttpError(message, transient);
  }
  if ((body.code === 100 && body.subcode === 33) || status === 404) return new NotFoundError(message, details);
  if (status === 403 && !body.transient) return new AuthError(message, details);
  if (status >= 400 && status < 500 && !body.transient) return new BadRequestError(message, details);
  return new HttpError(message, details);
}
