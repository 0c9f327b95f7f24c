import { Agent, type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { authorizeUrl, type AuthorizeParams, exchangeCode, needsRefresh, refreshToken, type TokenSet } from './auth/oauth';
import {
  DEFAULT_IMAGE_FIELDS, DEFAULT_MAP_FEATURE_FIELDS, detections, entities, entity, type GraphItem, type ImageSearch, type MapFeatureSearch,
  me, searchImages, searchMapFeatures, sequenceImageIds, tile,
} from './endpoints/v4';
import {
  type V3DetectionSearch, type V3Feature, v3ImageDetections, v3Images, type V3ImageSearch, v3MapFeatures, type V3MapFeatureSearch,
} from './endpoints/v3';
import type { PageStream, WalkOptions } from './paging/walk';
import { errorFromResponse } from './transport/classify';
import { AbortError, AuthError, InvalidInputError, isMapillaryError, MalformedResponseError, type MapillaryError, NetworkError } from './transport/errors';
import { attempt, type RawResponse } from './transport/http';
import { RateLimiter } from './transport/rate-limit';
import { DEFAULT_RETRY, retryDelay, type RetryOptions } from './transport/retry';
import { linkSignals, sharedController } from './transport/signals';
import { sleep } from './transport/sleep';
import type { CallOptions, RetryInfo } from './transport/types';

/** Which host a request goes to; each has its own way of carrying credentials. */
export type Api = 'graph' | 'v3' | 'tiles' | 'token';

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

export interface MapillaryClientOptions extends Credentials {
  baseUrls?: Partial<BaseUrls>;
  /** Per attempt, until the whole body has arrived. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Ceiling shared by every call of this client. Default 6000 (Mapillary's search API allows about 10,000/min). 0 = none. */
  requestsPerMinute?: number;
  /** Cells fetched at once by area searches, unless a call says otherwise. Default 4. */
  concurrency?: number;
  /** Proxy: a URL, `{ url, noProxy }`, or `'env'` to honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxy?: string | { url: string; noProxy?: string[] };
  /** Use this dispatcher instead of creating one (it is then not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Told of every retry of every call. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Told of every new user token (code exchange, refresh): persist it here. The client refreshes
   * the user token itself when it has the client id and secret: ahead of expiry (`refreshMarginMs`
   * before it, default 7 days) and once when the API rejects it with code 190.
   */
  onUserToken?: (tokens: TokenSet) => void | Promise<void>;
  refreshMarginMs?: number;
  userAgent?: string;
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

const REFRESH_COOL_DOWN_MS = 60_000;

const USER_AGENT = 'node-red-mapillary (+https://github.com/streetflow/node-red-mapillary)';

/**
 * One Mapillary client per set of credentials: it owns one keep-alive dispatcher, the base
 * URLs, the credentials, the retry policy and the request-rate ceiling. Every call takes an
 * `AbortSignal`; `close()` cancels what is in flight and releases the sockets.
 */
export class MapillaryClient {
  readonly baseUrls: BaseUrls;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly retry: RetryOptions;
  private readonly credentials: Credentials;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly limiter: RateLimiter;
  private readonly closing = sharedController();
  private readonly onRetry?: (info: RetryInfo) => void;
  private readonly onUserToken?: (tokens: TokenSet) => void | Promise<void>;
  private readonly refreshMarginMs: number;
  private refreshing?: Promise<boolean>;
  /** When a refresh last failed: no new attempt for a minute, whatever many requests follow. */
  private refreshFailedAt?: number;
  private readonly userAgent: string;

  constructor(options: MapillaryClientOptions = {}) {
    this.baseUrls = normaliseBaseUrls(options.baseUrls);
    this.credentials = {
      clientId: clean(options.clientId),
      clientToken: clean(options.clientToken),
      clientSecret: clean(options.clientSecret),
      userToken: clean(options.userToken),
      userTokenExpiresAt: options.userTokenExpiresAt,
    };
    this.timeoutMs = positive(options.timeoutMs, 30_000, 'timeoutMs');
    this.concurrency = positive(options.concurrency, 4, 'concurrency');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.limiter = new RateLimiter(options.requestsPerMinute ?? 6000);
    this.onRetry = options.onRetry;
    this.onUserToken = options.onUserToken;
    this.refreshMarginMs = options.refreshMarginMs ?? 7 * 24 * 3600 * 1000;
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? createDispatcher(options.proxy, this.timeoutMs);
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Aborted when the client closes: walks link to it. */
  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  get clientId(): string | undefined {
    return this.credentials.clientId;
  }

  get hasUserToken(): boolean {
    return this.credentials.userToken !== undefined;
  }

  get userTokenExpiresAt(): number | undefined {
    return this.credentials.userTokenExpiresAt;
  }

  /** Replaces the user token (after an OAuth exchange or refresh). */
  setUserToken(token: string | undefined, expiresAt?: number): void {
    this.credentials.userToken = clean(token);
    this.credentials.userTokenExpiresAt = token ? expiresAt : undefined;
  }

  // --- v4 Graph API -------------------------------------------------------------------------

  /** Images in an area (split into cells, every image once) or by creator, sequence, ids, organization. */
  searchImages(params: ImageSearch, options?: WalkOptions): PageStream<GraphItem> {
    return searchImages(this, params, options);
  }

  /** Map features (traffic signs, points) in an area, every feature once. */
  searchMapFeatures(params: MapFeatureSearch, options?: WalkOptions): PageStream<GraphItem> {
    return searchMapFeatures(this, params, options);
  }

  /** Detections of an image, or of several images one after the other (a page names its image). */
  imageDetections(imageIds: unknown, fields?: unknown, options?: WalkOptions): PageStream<GraphItem> {
    return detections(this, imageIds, fields, options);
  }

  /** Detections that make up a map feature, or several (a page names its map feature). */
  mapFeatureDetections(mapFeatureIds: unknown, fields?: unknown, options?: WalkOptions): PageStream<GraphItem> {
    return detections(this, mapFeatureIds, fields, options);
  }

  getImage(id: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem> {
    return entity(this, id, fields, DEFAULT_IMAGE_FIELDS, call);
  }

  getImages(ids: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem[]> {
    return entities(this, ids, fields, DEFAULT_IMAGE_FIELDS, call);
  }

  getMapFeature(id: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem> {
    return entity(this, id, fields, DEFAULT_MAP_FEATURE_FIELDS, call);
  }

  /** Image ids of a sequence, in capture order. */
  sequenceImageIds(sequenceId: unknown, call?: CallOptions): Promise<string[]> {
    return sequenceImageIds(this, sequenceId, call);
  }

  /** The user of the user access token. */
  me(call?: CallOptions): Promise<{ id: string; username: string }> {
    return me(this, call);
  }

  /** A vector tile (protobuf bytes). */
  tile(tileset: string, z: number, x: number, y: number, call?: CallOptions): Promise<Uint8Array> {
    return tile(this, tileset, z, x, y, call);
  }

  // --- v3 (retired API, legacy mode) ---------------------------------------------------------

  readonly v3 = {
    images: (params: V3ImageSearch, options?: WalkOptions): PageStream<V3Feature> => v3Images(this, params, options),
    imageDetections: (params: V3DetectionSearch, options?: WalkOptions): PageStream<V3Feature> => v3ImageDetections(this, params, options),
    mapFeatures: (params: V3MapFeatureSearch, options?: WalkOptions): PageStream<V3Feature> => v3MapFeatures(this, params, options),
  };

  // --- OAuth -------------------------------------------------------------------------------

  authorizeUrl(params: Omit<AuthorizeParams, 'clientId'> & { clientId?: string }): string {
    return authorizeUrl(this, { ...params, clientId: params.clientId ?? this.credentials.clientId ?? '' });
  }

  /** Exchanges a code for a user token and starts using it. */
  async exchangeCode(code: string, redirectUri?: string, call?: CallOptions): Promise<TokenSet> {
    const tokens = await exchangeCode(this, code, redirectUri, call);
    await this.useTokens(tokens);
    return tokens;
  }

  /** Refreshes the current user token and starts using the new one. */
  async refreshUserToken(call?: CallOptions): Promise<TokenSet> {
    const tokens = await refreshToken(this, this.credentials.userToken ?? '', call);
    await this.useTokens(tokens);
    return tokens;
  }

  private async useTokens(tokens: TokenSet): Promise<void> {
    this.setUserToken(tokens.accessToken, tokens.expiresAt);
    await this.onUserToken?.(tokens);
  }

  /** Whether the user token can be refreshed here (a token, the client id and the secret). */
  get canRefresh(): boolean {
    const { clientId, clientSecret, userToken } = this.credentials;
    return Boolean(clientId && clientSecret && userToken);
  }

  /**
   * Refreshes the user token once for everyone waiting (concurrent calls share one refresh).
   * Resolves false when it failed: the caller goes on with the token it has.
   */
  private refreshOnce(signal: AbortSignal): Promise<boolean> {
    if (this.refreshFailedAt !== undefined && Date.now() - this.refreshFailedAt < REFRESH_COOL_DOWN_MS) return Promise.resolve(false);
    this.refreshing ??= this.refreshUserToken({ signal }).then(
      () => {
        this.refreshFailedAt = undefined;
        return true;
      },
      () => {
        this.refreshFailedAt = Date.now();
        return false;
      },
    ).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  // --- transport ---------------------------------------------------------------------------

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
        data = JSON.parse(raw.body.toString('utf8'));
      } catch {
        throw new MalformedResponseError(`Mapillary ${endpoint}: the answer is not valid JSON (${raw.body.length} bytes)`, {
          endpoint, status: raw.status, transient: true,
        });
      }
      return { status: raw.status, headers: raw.headers, data: data as T };
    });
  }

  /** A request whose answer is bytes (vector tiles). */
  bytes(spec: RequestSpec, call: CallOptions = {}): Promise<Uint8Array> {
    return this.execute(spec, call, (raw) => new Uint8Array(raw.body));
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
    const base = new URL(spec.api === 'token' ? this.baseUrls.graph : this.baseUrls[spec.api]);
    const path = spec.url.origin === base.origin && spec.url.pathname.startsWith(base.pathname)
      ? spec.url.pathname.slice(base.pathname.replace(/\/$/, '').length) || '/'
      : spec.url.pathname;
    return `${spec.method ?? 'GET'} ${path}`;
  }

  private async execute<T>(spec: RequestSpec, call: CallOptions, parse: (raw: RawResponse, endpoint: string) => T): Promise<T> {
    const endpoint = this.endpointName(spec);
    const { signal, dispose } = linkSignals(call.signal, this.closing.signal);
    const usesUserToken = spec.api !== 'token' && this.canRefresh;
    let refreshedAfter190 = false;
    try {
      if (usesUserToken && needsRefresh(this.credentials.userTokenExpiresAt, Date.now(), this.refreshMarginMs)) await this.refreshOnce(signal);
      for (let attemptNo = 1; ; attemptNo++) {
        let error: MapillaryError;
        const { url, headers, body } = this.authorise(spec, endpoint);
        try {
          await this.limiter.acquire(signal);
          const raw = await attempt({
            dispatcher: this.dispatcher, method: spec.method ?? 'GET', url, headers, body, endpoint, timeoutMs: this.timeoutMs, signal,
          });
          if (raw.status >= 200 && raw.status < 300) return parse(raw, endpoint);
          error = errorFromResponse(endpoint, raw.status, raw.headers, raw.body.toString('utf8'), this.secrets());
        } catch (caught) {
          error = asMapillaryError(caught, endpoint);
        }
        if (signal.aborted) throw error.code === 'MAPILLARY_ABORTED' ? error : new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
        // A rejected user token (code 190) is refreshed once, and the request made again at once.
        if (error.code === 'MAPILLARY_AUTH' && error.mapillaryCode === 190 && usesUserToken && !refreshedAfter190) {
          refreshedAfter190 = true;
          if (await this.refreshOnce(signal)) {
            attemptNo -= 1;
            continue;
          }
        }
        const delayMs = retryDelay({ attempt: attemptNo, error, isTokenRequest: spec.api === 'token', random: Math.random() }, this.retry);
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
    if (url.origin !== new URL(this.baseUrls[spec.api]).origin) return { url, headers, body };
    const { clientId, clientToken, clientSecret, userToken } = this.credentials;
    switch (spec.api) {
      case 'graph':
        headers.authorization = `OAuth ${need(userToken ?? clientToken, endpoint, 'a client token or a user access token')}`;
        break;
      case 'tiles':
        url.searchParams.set('access_token', need(userToken ?? clientToken, endpoint, 'a client token or a user access token'));
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

function positive(value: number | undefined, fallback: number, what: string): number {
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

function createDispatcher(proxy: MapillaryClientOptions['proxy'], timeoutMs: number): Dispatcher {
  const common = { keepAliveTimeout: 10_000, connect: { timeout: Math.min(timeoutMs, 30_000) } };
  if (proxy === 'env') return new EnvHttpProxyAgent(common);
  if (typeof proxy === 'string' && proxy) return new ProxyAgent({ uri: proxy, ...common });
  if (typeof proxy === 'object' && proxy.url) {
    return new EnvHttpProxyAgent({ ...common, httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: (proxy.noProxy ?? []).join(',') });
  }
  return new Agent(common);
}
