/**
 * The Mapillary client's public entry: usable from plain Node.js, and all the Node-RED nodes
 * import from it (the layout check enforces that).
 */
export { authorizeUrl, MapillaryClient, MAPILLARY_BASE_URLS, normaliseBaseUrls } from './client';
export type { Api, BaseUrls, Credentials, MapillaryClientOptions } from './client';
export {
  AREA_LIMITS, DECODE_FIELDS, DEFAULT_DETECTION_FIELDS, DEFAULT_IMAGE_FIELDS, DEFAULT_MAP_FEATURE_FIELDS, DETECTION_FIELDS, FIELD_CHOICES,
  IMAGE_FIELDS, MAP_FEATURE_FIELDS,
} from './endpoints/v4';
export type { GraphItem, ImageSearch, MapFeatureSearch } from './endpoints/v4';
export { DEFAULT_PICTURE_MAX_BYTES, parsePictureSize, PICTURE_FIELDS, PICTURE_SIZES } from './endpoints/pictures';
export type { Picture, PictureOptions, PictureSize } from './endpoints/pictures';
export type { V3DetectionSearch, V3Feature, V3ImageSearch, V3MapFeatureSearch } from './endpoints/v3';
export { INPUT_LIMITS, SETTING_RANGES } from './limits';
export type { Range } from './limits';
export { PageStream } from './paging/walk';
export type { HarvestWarning, Page, WalkOptions, WalkStats } from './paging/walk';
export type { Checkpoint, CheckpointCell } from './paging/checkpoint';
export { parseLinkHeader } from './paging/follow-link';
export { expiryTime, needsRefresh } from './auth/oauth';
export type { AuthorizeParams, TokenSet } from './auth/oauth';
export * from './errors';
export { DEFAULT_RETRY, isRetryable, parseRetryAfter, retryDelay } from './transport/retry';
export type { RetryInput, RetryOptions } from './transport/retry';
export { RateLimiter } from './transport/rate-limit';
export type { CallOptions, RetryInfo } from './transport/types';
export { bboxArea, formatBBox } from './geo/bbox';
export type { BBox } from './geo/bbox';
export { decodeDetectionGeometry } from './geo/detection-geometry';
export type { DecodedDetectionGeometry } from './geo/detection-geometry';
export { parseArea } from './parse/area';
export { parseFields } from './parse/fields';
export {
  describeValue, limitText, listItems, parseCount, parseDate, parseDateRange, parseId, parseIdList, parseSequenceId,
} from './parse/values';
