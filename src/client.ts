import { authorizeUrl as authorizePage, type AuthorizeParams, exchangeCode, needsRefresh, refreshToken, type TokenSet } from './auth/oauth';
import {
  DEFAULT_IMAGE_FIELDS, DEFAULT_MAP_FEATURE_FIELDS, detections, entities, entity, type GraphItem, type ImageSearch, type MapFeatureSearch,
  me, searchImages, searchMapFeatures, sequenceImageIds, tile,
} from './endpoints/v4';
import {
  type V3DetectionSearch, type V3Feature, v3ImageDetections, v3Images, type V3ImageSearch, v3MapFeatures, type V3MapFeatureSearch,
} from './endpoints/v3';
import { picture, type Picture, type PictureOptions } from './endpoints/pictures';
import { SETTING_RANGES } from './limits';
import type { PageStream, WalkOptions } from './paging/walk';
import type { RetryOptions } from './transport/retry';
import { type BaseUrls, positive, Transport, type TransportOptions } from './transport/transport';
import type { CallOptions } from './transport/types';

export { MAPILLARY_BASE_URLS, normaliseBaseUrls } from './transport/transport';
export type { Api, BaseUrls, Credentials, JsonResponse, RequestSpec } from './transport/transport';

export interface MapillaryClientOptions extends TransportOptions {
  /**
   * Also: `baseUrls`; `timeoutMs` per attempt (default 30 s); `retry`; `requestsPerMinute`, a
   * ceiling shared by every call of this client (default 6000; Mapillary's search API allows
   * about 10,000/min; 0 = none); `proxy`: a URL, `{ url, noProxy }`, or `'env'` to honour
   * HTTP_PROXY / HTTPS_PROXY / NO_PROXY; `dispatcher`; `onRetry`, told of every retry.
   */
  /** Cells fetched at once by area searches, unless a call says otherwise. Default 4. */
  concurrency?: number;
  /**
   * Told of every new user token (code exchange, refresh): persist it here. The client refreshes
   * the user token itself when it has the client id and secret: ahead of expiry (`refreshMarginMs`
   * before it, default 7 days) and once when the API rejects it with code 190.
   */
  onUserToken?: (tokens: TokenSet) => void | Promise<void>;
  refreshMarginMs?: number;
}

const REFRESH_COOL_DOWN_MS = 60_000;

/**
 * One Mapillary client per set of credentials: the public front. It assembles a Transport (one
 * keep-alive dispatcher, base URLs, credentials, retries, the request-rate ceiling) with the
 * endpoints, paging and OAuth, and refreshes the user token. Every call takes an `AbortSignal`;
 * `close()` cancels what is in flight and releases the sockets.
 */
export class MapillaryClient {
  readonly concurrency: number;
  private readonly transport: Transport;
  private readonly onUserToken?: (tokens: TokenSet) => void | Promise<void>;
  private readonly refreshMarginMs: number;
  private refreshing?: Promise<boolean>;
  /** When a refresh last failed: no new attempt for a minute, whatever many requests follow. */
  private refreshFailedAt?: number;

  constructor(options: MapillaryClientOptions = {}) {
    this.transport = new Transport(options);
    this.concurrency = positive(options.concurrency, SETTING_RANGES.concurrency.default, 'concurrency');
    this.onUserToken = options.onUserToken;
    this.refreshMarginMs = options.refreshMarginMs ?? 7 * 24 * 3600 * 1000;
    this.transport.userTokenRefresh = {
      due: () => needsRefresh(this.transport.userTokenExpiresAt, Date.now(), this.refreshMarginMs),
      refresh: (signal) => this.refreshOnce(signal),
    };
  }

  get baseUrls(): BaseUrls {
    return this.transport.baseUrls;
  }

  get timeoutMs(): number {
    return this.transport.timeoutMs;
  }

  get retry(): RetryOptions {
    return this.transport.retry;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  get clientId(): string | undefined {
    return this.transport.clientId;
  }

  get hasUserToken(): boolean {
    return this.transport.userToken !== undefined;
  }

  get userTokenExpiresAt(): number | undefined {
    return this.transport.userTokenExpiresAt;
  }

  /** Replaces the user token (after an OAuth exchange or refresh). */
  setUserToken(token: string | undefined, expiresAt?: number): void {
    this.transport.setUserToken(token, expiresAt);
  }

  // --- v4 Graph API -------------------------------------------------------------------------

  /** Images in an area (split into cells, every image once) or by creator, sequence, ids, organization. */
  searchImages(params: ImageSearch, options?: WalkOptions): PageStream<GraphItem> {
    return searchImages(this.transport, params, this.walkOptions(options));
  }

  /** Map features (traffic signs, points) in an area, every feature once. */
  searchMapFeatures(params: MapFeatureSearch, options?: WalkOptions): PageStream<GraphItem> {
    return searchMapFeatures(this.transport, params, this.walkOptions(options));
  }

  /** Detections of an image, or of several images one after the other (a page names its image). */
  imageDetections(imageIds: unknown, fields?: unknown, options?: WalkOptions): PageStream<GraphItem> {
    return detections(this.transport, imageIds, fields, options);
  }

  /** Detections that make up a map feature, or several (a page names its map feature). */
  mapFeatureDetections(mapFeatureIds: unknown, fields?: unknown, options?: WalkOptions): PageStream<GraphItem> {
    return detections(this.transport, mapFeatureIds, fields, options);
  }

  getImage(id: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem> {
    return entity(this.transport, id, fields, DEFAULT_IMAGE_FIELDS, call);
  }

  getImages(ids: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem[]> {
    return entities(this.transport, ids, fields, DEFAULT_IMAGE_FIELDS, call);
  }

  /**
   * An image's picture at a size Mapillary serves (256, 1024, 2048 or original): a fresh signed
   * URL is asked for each time, and the bytes are fetched from the CDN with no credential.
   */
  picture(id: unknown, size: unknown, options?: PictureOptions): Promise<Picture> {
    return picture(this.transport, id, size, options);
  }

  getMapFeature(id: unknown, fields?: unknown, call?: CallOptions): Promise<GraphItem> {
    return entity(this.transport, id, fields, DEFAULT_MAP_FEATURE_FIELDS, call);
  }

  /** Image ids of a sequence, in capture order. */
  sequenceImageIds(sequenceId: unknown, call?: CallOptions): Promise<string[]> {
    return sequenceImageIds(this.transport, sequenceId, call);
  }

  /** The user of the user access token. */
  me(call?: CallOptions): Promise<{ id: string; username: string }> {
    return me(this.transport, call);
  }

  /** A vector tile (protobuf bytes). */
  tile(tileset: string, z: number, x: number, y: number, call?: CallOptions): Promise<Uint8Array> {
    return tile(this.transport, tileset, z, x, y, call);
  }

  // --- v3 (retired API, legacy mode) ---------------------------------------------------------

  readonly v3 = {
    images: (params: V3ImageSearch, options?: WalkOptions): PageStream<V3Feature> => v3Images(this.transport, params, options),
    imageDetections: (params: V3DetectionSearch, options?: WalkOptions): PageStream<V3Feature> => v3ImageDetections(this.transport, params, options),
    mapFeatures: (params: V3MapFeatureSearch, options?: WalkOptions): PageStream<V3Feature> => v3MapFeatures(this.transport, params, options),
  };

  // --- OAuth -------------------------------------------------------------------------------

  authorizeUrl(params: Omit<AuthorizeParams, 'clientId'> & { clientId?: string }): string {
    return authorizePage(this.transport, { ...params, clientId: params.clientId ?? this.transport.clientId ?? '' });
  }

  /** Exchanges a code for a user token and starts using it. */
  async exchangeCode(code: string, redirectUri?: string, call?: CallOptions): Promise<TokenSet> {
    const tokens = await exchangeCode(this.transport, code, redirectUri, call);
    await this.useTokens(tokens);
    return tokens;
  }

  /** Refreshes the current user token and starts using the new one. */
  async refreshUserToken(call?: CallOptions): Promise<TokenSet> {
    const tokens = await refreshToken(this.transport, this.transport.userToken ?? '', call);
    await this.useTokens(tokens);
    return tokens;
  }

  /** Whether the user token can be refreshed here (a token, the client id and the secret). */
  get canRefresh(): boolean {
    return this.transport.canRefresh;
  }

  /** Cancels every call in flight and releases the sockets. Safe to call twice. */
  close(): Promise<void> {
    return this.transport.close();
  }

  private walkOptions(options: WalkOptions = {}): WalkOptions {
    return options.concurrency === undefined ? { ...options, concurrency: this.concurrency } : options;
  }

  private async useTokens(tokens: TokenSet): Promise<void> {
    this.setUserToken(tokens.accessToken, tokens.expiresAt);
    await this.onUserToken?.(tokens);
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
}

/** The page the user's browser opens to approve the application: `client.authorizeUrl(params)`, as a function. */
export function authorizeUrl(client: MapillaryClient, params: Omit<AuthorizeParams, 'clientId'> & { clientId?: string }): string {
  return client.authorizeUrl(params);
}
