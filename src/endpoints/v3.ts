import type { Transport } from '../transport/transport';
import { formatBBox } from '../geo/bbox';
import { parseArea } from '../parse/area';
import { followLink } from '../paging/follow-link';
import { type Page, PageStream, Walk, type WalkOptions } from '../paging/walk';
import { InvalidInputError } from '../errors';
import { CLASS, parseValueList } from '../parse/lists';
import { parseDateRange, parsePositiveInt } from '../parse/values';

/** An item of the retired v3 API: a GeoJSON Feature. */
export interface V3Feature {
  type: 'Feature';
  properties: Record<string, unknown>;
  geometry: { type: string; coordinates: unknown } | null;
}

export interface V3Common {
  bbox?: unknown;
  /** Items per page, up to 1000 (default 1000: fewer requests). */
  perPage?: number;
}

export interface V3ImageSearch extends V3Common {
  startTime?: unknown;
  endTime?: unknown;
  usernames?: unknown;
  userKeys?: unknown;
  organizationKeys?: unknown;
  sequenceKeys?: unknown;
  imageKeys?: unknown;
  pano?: boolean;
}

export interface V3DetectionSearch extends V3Common {
  /** trafficsigns, segmentations, instances */
  layers?: unknown;
  values?: unknown;
  imageKeys?: unknown;
}

export interface V3MapFeatureSearch extends V3Common {
  /** trafficsigns, points, lines */
  layers?: unknown;
  values?: unknown;
}

type Query = Record<string, string | number | boolean | undefined>;

const KEY = /^[A-Za-z0-9_-]{1,64}$/;

function list(input: unknown, what: string, pattern: RegExp, allowed?: readonly string[]): string | undefined {
  return parseValueList(input, what, pattern, 'valid', allowed);
}

/** One Link-paged walk per box (two when the area crosses the antimeridian). */
function walkV3(transport: Transport, path: string, common: V3Common, query: Query, options: WalkOptions): PageStream<V3Feature> {
  const perPage = parsePositiveInt(common.perPage ?? 1000, 'per page', { min: 1, max: 1000 });
  const boxes = common.bbox == null || common.bbox === '' ? [undefined] : parseArea(common.bbox);
  const walk = new Walk(options, transport.closeSignal);
  return new PageStream(walk, async function* pages(w: Walk): AsyncGenerator<Page<V3Feature>, void, undefined> {
    for (const box of boxes) {
      if (w.full) return;
      yield* followLink<V3Feature>(transport, transport.url('v3', path, { ...query, bbox: box && formatBBox(box), per_page: perPage }))(w);
    }
  });
}

/** v3 `GET /images` (legacy). */
export function v3Images(transport: Transport, params: V3ImageSearch, options: WalkOptions = {}): PageStream<V3Feature> {
  const time = parseDateRange(params.startTime, params.endTime, 'capture time');
  return walkV3(transport, '/images', params, {
    start_time: time.start,
    end_time: time.end,
    usernames: list(params.usernames, 'usernames', /^[^,\s]{1,64}$/),
    userkeys: list(params.userKeys, 'user keys', KEY),
    organization_keys: list(params.organizationKeys, 'organization keys', KEY),
    sequence_keys: list(params.sequenceKeys, 'sequence keys', KEY),
    image_keys: list(params.imageKeys, 'image keys', KEY),
    pano: params.pano,
  }, options);
}

/** v3 `GET /image_detections` (legacy); sorted by key, without which paging repeated items. */
export function v3ImageDetections(transport: Transport, params: V3DetectionSearch, options: WalkOptions = {}): PageStream<V3Feature> {
  if ((params.bbox == null || params.bbox === '') && (params.imageKeys == null || params.imageKeys === '')) {
    throw new InvalidInputError('v3 image detections: give an area (bbox) or image keys');
  }
  return walkV3(transport, '/image_detections', params, {
    layers: list(params.layers, 'layers', CLASS, ['trafficsigns', 'segmentations', 'instances']),
    values: list(params.values, 'values', CLASS),
    image_keys: list(params.imageKeys, 'image keys', KEY),
    sort_by: 'key',
  }, options);
}

/** v3 `GET /map_features` (legacy); sorted by key, without which paging repeated items. */
export function v3MapFeatures(transport: Transport, params: V3MapFeatureSearch, options: WalkOptions = {}): PageStream<V3Feature> {
  if (params.bbox == null || params.bbox === '') throw new InvalidInputError('v3 map features: an area (bbox) is needed');
  return walkV3(transport, '/map_features', params, {
    layers: list(params.layers, 'layers', CLASS, ['trafficsigns', 'points', 'lines']),
    values: list(params.values, 'values', CLASS),
    sort_by: 'key',
  }, options);
}
