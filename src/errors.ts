/**
 * Error classes with stable codes. Every failure of the client is one of these, so a flow can
 * route on `error.code` and never has to parse a message. Messages name the endpoint
 * ("GET /images") and never contain a token, a secret or a query string.
 */

export type MapillaryErrorCode =
  | 'MAPILLARY_AUTH'
  | 'MAPILLARY_NOT_FOUND'
  | 'MAPILLARY_RATE_LIMITED'
  | 'MAPILLARY_TOO_MUCH_DATA'
  | 'MAPILLARY_BAD_REQUEST'
  | 'MAPILLARY_HTTP'
  | 'MAPILLARY_NETWORK'
  | 'MAPILLARY_TIMEOUT'
  | 'MAPILLARY_INVALID_INPUT'
  | 'MAPILLARY_MALFORMED_RESPONSE'
  | 'MAPILLARY_ABORTED'
  | 'MAPILLARY_REQUEST_LIMIT'
  | 'MAPILLARY_AREA_TOO_LARGE'
  | 'MAPILLARY_TOO_LARGE'
  | 'MAPILLARY_INTERNAL';

export interface MapillaryErrorDetails {
  /** Method and path of the call, without query string: "GET /images". */
  endpoint?: string;
  /** HTTP status, when the API answered. */
  status?: number;
  /** Mapillary's `error.code` (4, 1, 190, 100, ...). */
  mapillaryCode?: number;
  /** Mapillary's `error.error_subcode`. */
  subcode?: number;
  /** Mapillary's `error.is_transient`. */
  transient?: boolean;
  /** Parsed `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
  /** Mapillary's `error.fbtrace_id`, useful when asking Mapillary support. */
  fbtraceId?: string;
  /** Low-level cause (network error code such as ECONNRESET). */
  causeCode?: string;
  cause?: unknown;
}

export class MapillaryError extends Error {
  readonly code: MapillaryErrorCode;
  readonly endpoint?: string;
  readonly status?: number;
  readonly mapillaryCode?: number;
  readonly subcode?: number;
  readonly transient: boolean;
  readonly retryAfterMs?: number;
  readonly fbtraceId?: string;
  readonly causeCode?: string;

  constructor(code: MapillaryErrorCode, message: string, details: MapillaryErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.mapillaryCode = details.mapillaryCode;
    this.subcode = details.subcode;
    this.transient = details.transient ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.fbtraceId = details.fbtraceId;
    this.causeCode = details.causeCode;
  }

  /** A plain object for `msg.error` and logs: no stack, no cause chain, no secrets. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const key of ['endpoint', 'status', 'mapillaryCode', 'subcode', 'retryAfterMs', 'fbtraceId', 'causeCode'] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    if (this.transient) out.transient = true;
    return out;
  }
}

/** Invalid or expired token (Mapillary code 190, HTTP 401), or a rejected client secret. */
export class AuthError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_AUTH', message, details); }
}
/** The object does not exist or is not visible with this token (code 100, subcode 33). */
export class NotFoundError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_NOT_FOUND', message, details); }
}
/** Application request limit reached (code 4, HTTP 403 or 429). */
export class RateLimitError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_RATE_LIMITED', message, details); }
}
/** "Please reduce the amount of data you're asking for" (code 1). */
export class TooMuchDataError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_TOO_MUCH_DATA', message, details); }
}
/** The API refused the parameters (HTTP 400). */
export class BadRequestError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_BAD_REQUEST', message, details); }
}
/** Any other HTTP failure (5xx without a Mapillary code, unexpected statuses). */
export class HttpError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_HTTP', message, details); }
}
/** The connection failed or was cut (reset, refused, DNS, truncated body). */
export class NetworkError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_NETWORK', message, details); }
}
/** No complete answer within the request timeout. */
export class TimeoutError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_TIMEOUT', message, details); }
}
/** The caller's input (bbox, date, id, option) is not valid; nothing was sent. */
export class InvalidInputError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_INVALID_INPUT', message, details); }
}
/** The API answered 2xx with a body that is not the JSON shape expected. */
export class MalformedResponseError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_MALFORMED_RESPONSE', message, details); }
}
/** The caller aborted (AbortSignal, consumer stopped, client closed). */
export class AbortError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_ABORTED', message, details); }
}
/** A hard cap on requests was reached before the walk was complete: results are partial. */
export class RequestLimitError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_REQUEST_LIMIT', message, details); }
}

/** The area needs more requests than allowed (known before the first request): nothing was sent. */
export class AreaTooLargeError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_AREA_TOO_LARGE', message, details); }
}
/** A download (a picture) is larger than the cap set for it: nothing of it was kept. */
export class TooLargeError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_TOO_LARGE', message, details); }
}
/** A failure the package did not expect (a bug, or a message it cannot copy): the input is ended, the node goes on. */
export class InternalError extends MapillaryError {
  constructor(message: string, details?: MapillaryErrorDetails) { super('MAPILLARY_INTERNAL', message, details); }
}

export function isMapillaryError(value: unknown): value is MapillaryError {
  return value instanceof MapillaryError;
}
