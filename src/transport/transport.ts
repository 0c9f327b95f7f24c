import { Agent, type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { SETTING_RANGES } from '../limits';
import { AbortError, AuthError, InvalidInputError, isMapillaryError, MalformedResponseError, type MapillaryError, NetworkError } from '../errors';
import { errorFromResponse } from './classify';
import { attempt, bodyText, type RawResponse } from './http';
import { RateLimiter } from './rate-limit';
import { DEFAULT_RETRY, retryDelay, type RetryOptions } from './retry';
import { linkSignals, sharedController } from './signals';
import { sleep } from './sleep';
import type { CallOptions, RetryInfo } from './types';

/**
 * The bottom layer every call goes through: one keep-alive dispatcher, the base URLs, the
 * credentials as each host wants them on the wire, the retry loop and the request-rate ceiling.
 * Endpoints, paging and OAuth take a Transport; the client assembles them. Refreshing the user
 * token is the client's business, handed in as `userTokenRefresh`.
 */

/** Which host a request goes to; each has its own way of carrying credentials. */
export type Api = 'graph' | 'v3' | 'tiles' | 'token' | 'cdn';

export interface BaseUrls {
  /** v4 Graph API. */
  graph: string;
  /** Retired v3 API (legacy mode). */
  v3: string;
  /** Vector tiles. */
  tiles: string;
  /** OAuth authorize page (the browser goes there). */
  authorize: string;
  /** OAuth token endpoint. */
  token: string;
}

/** After coverage tiles fail, a client does without them this long. */
const TILES_PAUSE_MS = 10 * 60_000;

export const MAPILLARY_BASE_URLS: BaseUrls = {
  graph: 'https://graph.mapillary.com',
  v3: 'https://a.mapillary.com/v3',
  tiles: 'https://tiles.mapillary.com',
  authorize: 'https://www.mapillary.com/connect',
  token: 'https://graph.mapillary.com/token',
};

export interface Credentials {
  /** Application (client) id: v3 `client_id`, OAuth `client_id`. */
  clientId?: string;
  /** v4 client token `MLY|<app id>|<hex>` for public data. */
  clientToken?: string;
  /** Client secret: only for the OAuth token endpoint. */
  clientSecret?: string;
  /** User access token from OAuth; preferred over the client token when present. */
  userToken?: string;
  /** When the user token expires (epoch ms). */
  userTokenExpiresAt?: number;
}

export interface TransportOptions extends Credentials {
  baseUrls?: Partial<BaseUrls>;
  /** Per attempt, until the whole body has arrived. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Ceiling shared by every call; 0 = none. */
  requestsPerMinute?: number;
  /** Proxy: a URL, `{ url, noProxy }`, or `'env'` to honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxy?: string | { url: string; noProxy?: string[] };
  /** Use this dispatcher instead of creating one (it is then not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Told of every retry of every call. */
  onRetry?: (info: RetryInfo) => void;
  userAgent?: string;
}

/** How the transport gets a fresher user token: due ahead of expiry, or after a code 190. */
export interface UserTokenRefresh {
  /** Whether requests should refresh the user token before going out. */
  due(): boolean;
  /** Refreshes once for everyone waiting; resolves false when it failed (the old token is kept). */
  refresh(signal: AbortSignal): Promise<boolean>;
}

/** What a request needs before credentials are added. */
export interface RequestSpec {
  api: Api;
  url: URL;
  method?: 'GET' | 'POST';
  /** Form body of a POST. */
  form?: Record<string, string>;
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
}

const USER_AGENT = 'node-red-mapillary (+https://github.com/streetflow/node-red-mapillary)';

export class Transport {
  readonly baseUrls: BaseUrls;
  readonly timeoutMs: number;
  readonly retry: RetryOptions;
  /** Set by the client when it can refresh the user token. */
  userTokenRefresh?: UserTokenRefresh;
  private readonly credentials: Credentials;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly limiter: RateLimiter;
  private readonly closing = sharedController();
  private readonly onRetry?: (info: RetryInfo) => void;
  private readonly userAgent: string;

  constructor(options: TransportOptions = {}) {
    this.baseUrls = normaliseBaseUrls(options.baseUrls);
    this.credentials = {
      clientId: clean(options.clientId),
      clientToken: clean(options.clientToken),
      clientSecret: clean(options.clientSecret),
      userToken: clean(options.userToken),
      userTokenExpiresAt: options.userTokenExpiresAt,
    };
    this.timeoutMs = positive(options.timeoutMs, SETTING_RANGES.timeout.default * 1000, 'timeoutMs');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.limiter = new RateLimiter(options.requestsPerMinute ?? SETTING_RANGES.requestsPerMinute.default);
    this.onRetry = options.onRetry;
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? createDispatcher(options.proxy, this.timeoutMs);
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Aborted when the transport closes: walks link to it. */
  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  get clientId(): string | undefined {
    return this.credentials.clientId;
  }

  get userToken(): string | undefined {
    return this.credentials.userToken;
  }

  get userTokenExpiresAt(): number | undefined {
    return this.credentials.userTokenExpiresAt;
  }

  /** Whether the user token can be refreshed (a token, the client id and the secret). */
  get canRefresh(): boolean {
    const { clientId, clientSecret, userToken } = this.credentials;
    return Boolean(clientId && clientSecret && userToken);
  }

  /** Replaces the user token (after an OAuth exchange or refresh). */
  setUserToken(token: string | undefined, expiresAt?: number): void {
    this.credentials.userToken = clean(token);
    this.credentials.userTokenExpiresAt = token ? expiresAt : undefined;
  }

  /** A URL under one of the base URLs; empty parameters are left out. */
  url(api: keyof BaseUrls, path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
    const url = new URL(this.baseUrls[api] + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** A request whose answer is JSON. */
  json<T = unknown>(spec: RequestSpec, call: CallOptions = {}): Promise<JsonResponse<T>> {
    return this.execute(spec, call, (raw, endpoint) => {
      let data: unknown;
      try {
        data = JSON.parse(bodyText(raw));
      } catch {
        throw new MalformedResponseError(`Mapillary ${endpoint}: the answer is not valid JSON (${Buffer.byteLength(raw.body)} bytes)`, {
          endpoint, status: raw.status, transient: true,
        });
      }
      return { status: raw.status, headers: raw.headers, data: data as T };
    });
  }

  /**
   * A download from Mapillary's CDN (a picture at a signed URL that the API gave): sent with no
   * credential at all, whatever its host; only http(s). The body is refused past `maxBytes`.
   */
  download(url: URL, maxBytes: number, call: CallOptions = {}): Promise<{ bytes: Buffer; contentType?: string }> {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return Promise.reject(new MalformedResponseError('Mapillary: a picture URL that is not http(s)'));
    return this.execute({ api: 'cdn', url }, call, (raw) => {
      const type = raw.headers['content-type'];
      return { bytes: typeof raw.body === 'string' ? Buffer.from(raw.body) : raw.body, contentType: typeof type === 'string' ? type : undefined };
    }, 'bytes', maxBytes);
  }

  /** A request whose answer is bytes (vector tiles). */
  bytes(spec: RequestSpec, call: CallOptions = {}): Promise<Uint8Array> {
    return this.execute(spec, call, (raw) => new Uint8Array(typeof raw.body === 'string' ? Buffer.from(raw.body) : raw.body), 'bytes');
  }

  /** Cancels every call in flight and releases the sockets. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.limiter.close();
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }

  /** "GET /images": the method and the path below the base URL, never the query. */
  endpointName(spec: RequestSpec): string {
    // A picture on the CDN: its host and path (its signed query is left out).
    if (spec.api === 'cdn') return `${spec.method ?? 'GET'} ${spec.url.host}${spec.url.pathname}`;
    const base = new URL(spec.api === 'token' ? this.baseUrls.graph : this.baseUrls[spec.api]);
    const path = spec.url.origin === base.origin && spec.url.pathname.startsWith(base.pathname)
      ? spec.url.pathname.slice(base.pathname.replace(/\/$/, '').length) || '/'
      : spec.url.pathname;
    return `${spec.method ?? 'GET'} ${path}`;
  }

  private async execute<T>(spec: RequestSpec, call: CallOptions, parse: (raw: RawResponse, endpoint: string) => T, read: 'text' | 'bytes' = 'text', maxBytes?: number): Promise<T> {
    const endpoint = this.endpointName(spec);
    const { signal, dispose } = linkSignals(call.signal, this.closing.signal);
    const refresh = spec.api !== 'token' && spec.api !== 'cdn' && this.canRefresh ? this.userTokenRefresh : undefined;
    let refreshedAfter190 = false;
    try {
      if (refresh?.due()) await refresh.refresh(signal);
      for (let attemptNo = 1; ; attemptNo++) {
        let error: MapillaryError;
        const { url, headers, body } = this.authorise(spec, endpoint);
        try {
          // The rate ceiling is Mapillary's API budget: downloads from the CDN are not counted against it.
          if (spec.api !== 'cdn') await this.limiter.acquire(signal);
          const raw = await attempt({
            dispatcher: this.dispatcher, method: spec.method ?? 'GET', url, headers, body, endpoint, timeoutMs: this.timeoutMs, signal, read, maxBytes,
          });
          if (raw.status >= 200 && raw.status < 300) return parse(raw, endpoint);
          error = errorFromResponse(endpoint, raw.status, raw.headers, bodyText(raw), this.secrets());
        } catch (caught) {
          error = asMapillaryError(caught, endpoint);
        }
        if (signal.aborted) throw error.code === 'MAPILLARY_ABORTED' ? error : new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
        // A rejected user token (code 190) is refreshed once, and the request made again at once.
        if (error.code === 'MAPILLARY_AUTH' && error.mapillaryCode === 190 && refresh && !refreshedAfter190) {
          refreshedAfter190 = true;
          if (await refresh.refresh(signal)) {
            attemptNo -= 1;
            continue;
          }
        }
        const policy = call.attempts === undefined ? this.retry : { ...this.retry, maxAttempts: Math.min(this.retry.maxAttempts, call.attempts) };
        const delayMs = retryDelay({ attempt: attemptNo, error, isTokenRequest: spec.api === 'token', random: Math.random() }, policy);
        if (delayMs === undefined) throw error;
        const info: RetryInfo = { endpoint, attempt: attemptNo, delayMs, error };
        this.onRetry?.(info);
        call.onRetry?.(info);
        await sleep(delayMs, signal, endpoint);
      }
    } finally {
      dispose();
    }
  }
  /**
   * Coverage tiles are an aid, not data: they are used only when they describe the data searched
   * (the tiles host is Mapillary's and so is the graph host, or the tiles host was set too), and
   * not for a while after they failed.
   */
  tilesUsable(): boolean {
    const consistent = this.baseUrls.tiles !== MAPILLARY_BASE_URLS.tiles || this.baseUrls.graph === MAPILLARY_BASE_URLS.graph;
    return consistent && this.hasCredentialsFor('tiles') && Date.now() >= this.tilesFailedUntil;
  }

  /** Tiles failed (not aborted): they are not used by this client for the next `ms`. */
  tilesFailed(ms = TILES_PAUSE_MS): void {
    this.tilesFailedUntil = Date.now() + ms;
  }

  private tilesFailedUntil = 0;

  /** Whether requests to `api` can carry what it needs (tiles: a client token; graph: any token). */
  hasCredentialsFor(api: Api): boolean {
    const { clientId, clientToken, clientSecret, userToken } = this.credentials;
    switch (api) {
      case 'graph': return Boolean(userToken ?? clientToken);
      case 'tiles': return Boolean(clientToken);
      case 'v3': return Boolean(clientId);
      case 'token': return Boolean(clientSecret);
      case 'cdn': return true;
    }
  }

  /** Adds credentials as each host wants them, and only for the origin of that host. */
  private authorise(spec: RequestSpec, endpoint: string): { url: URL; headers: Record<string, string>; body?: string } {
    const url = new URL(spec.url);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    let body: string | undefined;
    if (spec.form) {
      body = new URLSearchParams(spec.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (spec.api === 'graph' || spec.api === 'token') url.searchParams.delete('access_token');
    // The CDN gets no credential, ever.
    if (spec.api === 'cdn') return { url, headers: { accept: '*/*', 'user-agent': this.userAgent }, body };
    if (url.origin !== new URL(this.baseUrls[spec.api]).origin) return { url, headers, body };
    const { clientId, clientToken, clientSecret, userToken } = this.credentials;
    switch (spec.api) {
      case 'graph':
        headers.authorization = `OAuth ${need(userToken ?? clientToken, endpoint, 'a client token or a user access token')}`;
        break;
      case 'tiles':
        // Tiles take the token in the URL, where proxies and logs see it: the client token
        // (public data) only, never a user token.
        url.searchParams.set('access_token', need(clientToken, endpoint, 'a client token (tiles never get a user token)'));
        break;
      case 'v3':
        url.searchParams.set('client_id', need(clientId, endpoint, 'a client id'));
        if (userToken) headers.authorization = `Bearer ${userToken}`;
        break;
      case 'token':
        headers.authorization = `OAuth ${need(clientSecret, endpoint, 'the client secret')}`;
        break;
    }
    return { url, headers, body };
  }

  private secrets(): (string | undefined)[] {
    const { clientToken, clientSecret, userToken } = this.credentials;
    return [clientToken, clientSecret, userToken];
  }
}

function need(value: string | undefined, endpoint: string, what: string): string {
  if (!value) throw new AuthError(`Mapillary ${endpoint}: no credentials: ${what} is needed`, { endpoint });
  return value;
}

function asMapillaryError(error: unknown, endpoint: string): MapillaryError {
  if (isMapillaryError(error)) return error;
  return new NetworkError(`Mapillary ${endpoint}: request failed (${(error as Error)?.name ?? 'Error'})`, { endpoint, transient: true });
}

function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** An optional positive number, or `fallback`; anything else is invalid input. */
export function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new InvalidInputError(`Mapillary client: ${what} must be a positive number, got ${value}`);
  return value;
}

/** Mapillary's base URLs with `overrides` applied, checked and without trailing slashes. */
export function normaliseBaseUrls(overrides: Partial<BaseUrls> = {}): BaseUrls {
  const out = { ...MAPILLARY_BASE_URLS };
  for (const key of Object.keys(out) as (keyof BaseUrls)[]) {
    const value = overrides[key]?.trim();
    if (!value) continue;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new InvalidInputError(`Mapillary client: base URL for ${key} is not a URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new InvalidInputError(`Mapillary client: base URL for ${key} must be http(s)`);
    }
    out[key] = value.replace(/\/+$/, '');
  }
  return out;
}

function createDispatcher(proxy: TransportOptions['proxy'], timeoutMs: number): Dispatcher {
  const common = { keepAliveTimeout: 10_000, connect: { timeout: Math.min(timeoutMs, 30_000) } };
  if (proxy === 'env') return new EnvHttpProxyAgent(common);
  if (typeof proxy === 'string' && proxy) return new ProxyAgent({ uri: proxy, ...common });
  if (typeof proxy === 'object' && proxy.url) {
    return new EnvHttpProxyAgent({ ...common, httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: (proxy.noProxy ?? []).join(',') });
  }
  return new Agent(common);
}
