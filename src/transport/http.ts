import { type Dispatcher, request } from 'undici';
import { AbortError, NetworkError, TimeoutError, TooLargeError } from '../errors';

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
  /** Bytes: refuse a body larger than this (by its Content-Length, or as it arrives). */
  maxBytes?: number;
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
    const body = options.read === 'bytes' ? await readBytes(response, options) : await response.body.text();
    return { status: response.statusCode, headers: response.headers, body };
  } catch (error) {
    if (error instanceof TooLargeError) throw error;
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

/** The body as bytes, within `maxBytes` when set: a larger one is refused before or while it arrives. */
async function readBytes(response: Awaited<ReturnType<typeof request>>, options: AttemptOptions): Promise<Buffer> {
  const max = options.maxBytes;
  if (max === undefined || response.statusCode < 200 || response.statusCode >= 300) return Buffer.from(await response.body.arrayBuffer());
  const tooLarge = (size: string) => new TooLargeError(`Mapillary ${options.endpoint}: the answer is larger than the cap of ${max} bytes (${size})`, { endpoint: options.endpoint, status: response.statusCode });
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    response.body.destroy();
    throw tooLarge(`${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    length += (chunk as Buffer).length;
    if (length > max) {
      response.body.destroy();
      throw tooLarge('more arrived');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, length);
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
