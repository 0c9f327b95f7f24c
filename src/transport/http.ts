import { type Dispatcher, request } from 'undici';
import { AbortError, NetworkError, TimeoutError } from '../errors';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Text when it was read as text (JSON answers: decoded once, no copy in between), else bytes. */
  body: Buffer | string;
}

/** The body as text. */
export function bodyText(raw: RawResponse): string {
  return typeof raw.body === 'string' ? raw.body : raw.body.toString('utf8');
}

export interface AttemptOptions {
  dispatcher: Dispatcher;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** "GET /images", for messages. */
  endpoint: string;
  /** Read the body as text (default) or as bytes. */
  read?: 'text' | 'bytes';
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * One HTTP exchange: the whole body is read before it returns, within `timeoutMs`. Failures
 * become `NetworkError`, `TimeoutError` or `AbortError`; the low-level error is kept only as a
 * code (its text may quote the URL, which can hold credentials on tile and v3 hosts).
 */
export async function attempt(options: AttemptOptions): Promise<RawResponse> {
  const { endpoint, signal } = options;
  if (signal?.aborted) throw new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await request(options.url, {
      dispatcher: options.dispatcher,
      method: options.method,
      headers: options.headers,
      body: options.body,
      signal: controller.signal,
    });
    const body = options.read === 'bytes' ? Buffer.from(await response.body.arrayBuffer()) : await response.body.text();
    return { status: response.statusCode, headers: response.headers, body };
  } catch (error) {
    if (signal?.aborted) throw new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
    if (timedOut) {
      throw new TimeoutError(`Mapillary ${endpoint}: no complete answer within ${options.timeoutMs} ms`, { endpoint, transient: true });
    }
    const causeCode = networkCode(error);
    throw new NetworkError(`Mapillary ${endpoint}: connection failed (${causeCode})`, { endpoint, causeCode, transient: true });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}
