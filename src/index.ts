/**
 * The Mapillary client: usable from plain Node.js, and what the Node-RED nodes wire in.
 */
export { MapillaryClient, MAPILLARY_BASE_URLS } from './client';
export type { Api, BaseUrls, Credentials, JsonResponse, MapillaryClientOptions, RequestSpec } from './client';
export {
  AREA_LIMITS, DEFAULT_DETECTION_FIELDS, DEFAULT_IMAGE_FIELDS, DEFAULT_MAP_FEATURE_FIELDS,
} from './endpoints/v4';
export type { GraphItem, ImageSearch, MapFeatureSearch } from './endpoints/v4';
export type { V3DetectionSearch, V3Feature, V3ImageSearch, V3MapFeatureSearch } from './endpoints/v3';
export { PageStream } from './paging/walk';
export type { HarvestWarning, Page, WalkOptions, WalkStats } from './paging/walk';
export { parseLinkHeader } from './paging/follow-link';
export { authorizeUrl, expiryTime, needsRefresh } from './auth/oauth';
export type { AuthorizeParams, TokenSet } from './auth/oauth';
export * from './errors';
export { DEFAULT_RETRY, isRetryable, parseRetryAfter, retryDelay } from './transport/retry';
export type { RetryInput, RetryOptions } from './transport/retry';
export { RateLimiter } from './transport/rate-limit';
export type { CallOptions, RetryInfo } from './transport/types';
export { bboxArea, formatBBox, parseArea } from './geo/bbox';
export type { BBox } from './geo/bbox';
export { decodeDetectionGeometry } from './geo/detection-geometry';
export type { DecodedDetectionGeometry } from './geo/detection-geometry';
export { parseDate, parseDateRange, parseId, parseIdList, parseSequenceId } from './validate';
