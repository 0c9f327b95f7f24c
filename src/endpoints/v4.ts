import type { MapillaryClient } from '../client';
import { type BBox, formatBBox, parseArea } from '../geo/bbox';
import { areaPages } from '../paging/area';
import { followNext } from '../paging/follow-next';
import { type Page, PageStream, Walk, type WalkOptions } from '../paging/walk';
import { InvalidInputError, MalformedResponseError } from '../transport/errors';
import type { CallOptions } from '../transport/types';
import { parseDateRange, parseId, parseIdList, parsePositiveInt, parseSequenceId } from '../validate';
import { fieldsQuery, parseFields, withGeometry } from './fields';

/** An item of the v4 Graph API: a flat object with a string `id` and the fields asked for. */
export interface GraphItem {
  id: string;
  geometry?: { type: string; coordinates: number[] };
  [field: string]: unknown;
}

export const DEFAULT_IMAGE_FIELDS = [
  'id', 'geometry', 'captured_at', 'compass_angle', 'sequence', 'creator', 'thumb_256_url', 'thumb_1024_url',
] as const;
export const DEFAULT_MAP_FEATURE_FIELDS = [
  'id', 'geometry', 'object_value', 'object_type', 'first_seen_at', 'last_seen_at', 'aligned_direction',
] as const;
export const DEFAULT_DETECTION_FIELDS = ['id', 'value', 'created_at', 'geometry', 'image'] as const;

/** Search limits of the v4 area searches. */
export const AREA_LIMITS = {
  /** Items per request: the API's default and maximum. */
  maxLimit: 2000,
  /** The API refuses boxes of 0.01 square degrees or more. */
  maxCellArea: 0.01,
  /** About 10 m: below this, cells are not split further. */
  minCellSide: 0.0001,
};

export interface AreaOptions {
  /** Items per request, at most 2000. */
  limit?: number;
  /** Smallest cell side in degrees before a full cell is reported as possibly truncated. */
  minCellSide?: number;
}

export interface ImageSearch extends AreaOptions {
  /** Area: "minLon,minLat,maxLon,maxLat", an array, or GeoJSON. */
  bbox?: unknown;
  startCapturedAt?: unknown;
  endCapturedAt?: unknown;
  creatorUsername?: string;
  isPano?: boolean;
  make?: string;
  model?: string;
  organizationId?: unknown;
  sequenceIds?: unknown;
  imageIds?: unknown;
  fields?: unknown;
}

export interface MapFeatureSearch extends AreaOptions {
  bbox: unknown;
  /** Classes, comma-separated or a list; wildcards such as `regulatory--*`. */
  objectValues?: unknown;
  startFirstSeenAt?: unknown;
  endFirstSeenAt?: unknown;
  startLastSeenAt?: unknown;
  endLastSeenAt?: unknown;
  fields?: unknown;
}

type Query = Record<string, string | number | boolean | undefined>;

function text(input: unknown, what: string): string | undefined {
  if (input == null || input === '') return undefined;
  if (typeof input !== 'string') throw new InvalidInputError(`${what}: expected text`);
  return input.trim() || undefined;
}

function objectValues(input: unknown): string | undefined {
  if (input == null || input === '') return undefined;
  const list = typeof input === 'string' ? input.split(',') : Array.isArray(input) ? input : undefined;
  if (!list || list.some((v) => typeof v !== 'string')) throw new InvalidInputError('object values: expected a list of classes or a comma-separated string');
  const values = (list as string[]).map((v) => v.trim()).filter(Boolean);
  for (const v of values) {
    if (!/^[a-z0-9*][a-z0-9_*-]*$/i.test(v)) throw new InvalidInputError(`object values: "${v.slice(0, 60)}" is not a class such as regulatory--stop--g1 or regulatory--*`);
  }
  return values.length ? values.join(',') : undefined;
}

function pointOf(item: GraphItem): readonly number[] | undefined {
  return Array.isArray(item.geometry?.coordinates) ? item.geometry.coordinates : undefined;
}

/** A walk over a v4 area search, or over a filtered search when there is no area. */
function search(
  client: MapillaryClient, path: string, label: string, areaInput: unknown, query: Query,
  fields: string[], area: AreaOptions, options: WalkOptions,
): PageStream<GraphItem> {
  const limit = parsePositiveInt(area.limit ?? AREA_LIMITS.maxLimit, 'limit', { min: 1, max: AREA_LIMITS.maxLimit });
  const walk = new Walk(options, client.closeSignal);
  if (areaInput == null || areaInput === '') {
    return new PageStream(walk, followNext<GraphItem>(client, client.url('graph', path, { ...query, fields: fieldsQuery(fields), limit })));
  }
  const areas: BBox[] = parseArea(areaInput);
  const { request, dropGeometry } = withGeometry(fields);
  const minCellSide = area.minCellSide ?? AREA_LIMITS.minCellSide;
  if (!(minCellSide > 0)) throw new InvalidInputError('minCellSide: must be a positive number of degrees');
  return new PageStream(walk, areaPages<GraphItem>(client, {
    areas,
    limit,
    maxCellArea: AREA_LIMITS.maxCellArea,
    minCellSide,
    concurrency: options.concurrency ?? client.concurrency,
    label,
    locate: pointOf,
    present: dropGeometry ? ({ geometry: _dropped, ...rest }) => rest as GraphItem : undefined,
    url: (cell, cellLimit) => client.url('graph', path, { ...query, bbox: formatBBox(cell), fields: fieldsQuery(request), limit: cellLimit }),
  }));
}

/** `GET /images`: by area (split into cells), or by creator, sequences, ids or organization. */
export function searchImages(client: MapillaryClient, params: ImageSearch, options: WalkOptions = {}): PageStream<GraphItem> {
  const captured = parseDateRange(params.startCapturedAt, params.endCapturedAt, 'captured at');
  const sequenceIds = params.sequenceIds == null || params.sequenceIds === '' ? undefined
    : (typeof params.sequenceIds === 'string' ? params.sequenceIds.split(',') : Array.isArray(params.sequenceIds) ? params.sequenceIds : [params.sequenceIds])
      .map((s) => parseSequenceId(typeof s === 'string' ? s.trim() : s)).join(',');
  const query: Query = {
    start_captured_at: captured.start,
    end_captured_at: captured.end,
    creator_username: text(params.creatorUsername, 'creator username'),
    is_pano: params.isPano,
    make: text(params.make, 'make'),
    model: text(params.model, 'model'),
    organization_id: params.organizationId == null || params.organizationId === '' ? undefined : parseId(params.organizationId, 'organization id'),
    sequence_ids: sequenceIds,
    image_ids: params.imageIds == null || params.imageIds === '' ? undefined : parseIdList(params.imageIds, 'image ids').join(','),
  };
  const hasArea = params.bbox != null && params.bbox !== '';
  if (!hasArea && !query.creator_username && !query.sequence_ids && !query.image_ids && !query.organization_id) {
    throw new InvalidInputError('image search: give an area (bbox), or a creator username, sequence ids, image ids or an organization id');
  }
  const fields = parseFields(params.fields, DEFAULT_IMAGE_FIELDS, 'image fields');
  return search(client, '/images', 'images', params.bbox, query, fields, params, options);
}

/** `GET /map_features` in an area (split into cells). */
export function searchMapFeatures(client: MapillaryClient, params: MapFeatureSearch, options: WalkOptions = {}): PageStream<GraphItem> {
  if (params.bbox == null || params.bbox === '') throw new InvalidInputError('map feature search: an area (bbox) is needed');
  const first = parseDateRange(params.startFirstSeenAt, params.endFirstSeenAt, 'first seen');
  const last = parseDateRange(params.startLastSeenAt, params.endLastSeenAt, 'last seen');
  const query: Query = {
    object_values: objectValues(params.objectValues),
    start_first_seen_at: first.start,
    end_first_seen_at: first.end,
    start_last_seen_at: last.start,
    end_last_seen_at: last.end,
  };
  const fields = parseFields(params.fields, DEFAULT_MAP_FEATURE_FIELDS, 'map feature fields');
  return search(client, '/map_features', 'map features', params.bbox, query, fields, params, options);
}

/**
 * `GET /{id}/detections` of images or map features, one after the other in one walk (caps and
 * statistics shared); follows `paging.next`. Each page names its image or map feature.
 */
export function detections(client: MapillaryClient, ids: unknown, fields: unknown, options: WalkOptions = {}): PageStream<GraphItem> {
  const keys = Array.isArray(ids) ? ids.map((id, i) => parseId(id, `id (item ${i + 1})`)) : [parseId(ids, 'image or map feature id')];
  const query = { fields: fieldsQuery(parseFields(fields, DEFAULT_DETECTION_FIELDS, 'detection fields')) };
  const walk = new Walk(options, client.closeSignal);
  return new PageStream(walk, async function* pages(w: Walk): AsyncGenerator<Page<GraphItem>, void, undefined> {
    for (const key of keys) {
      if (w.full) return;
      for await (const page of followNext<GraphItem>(client, client.url('graph', `/${key}/detections`, query))(w)) {
        page.source = key;
        yield page;
      }
    }
  }, { keepEmpty: true });
}

/** `GET /{id}`: one image or map feature. */
export async function entity(client: MapillaryClient, id: unknown, fields: unknown, defaults: readonly string[], call: CallOptions = {}): Promise<GraphItem> {
  const key = parseId(id, 'id');
  const url = client.url('graph', `/${key}`, { fields: fieldsQuery(parseFields(fields, defaults)) });
  const { data } = await client.json<GraphItem>({ api: 'graph', url }, call);
  if (data === null || typeof data !== 'object' || typeof data.id !== 'string') {
    throw new MalformedResponseError(`Mapillary GET /${key}: expected an object with an id`, { endpoint: `GET /${key}` });
  }
  return data;
}

/** `GET /?ids=a,b,c`: several entities of one type at once, in the order asked. */
export async function entities(client: MapillaryClient, ids: unknown, fields: unknown, defaults: readonly string[], call: CallOptions = {}): Promise<GraphItem[]> {
  const keys = parseIdList(ids, 'ids');
  const url = client.url('graph', '/', { ids: keys.join(','), fields: fieldsQuery(parseFields(fields, defaults)) });
  const { data } = await client.json<Record<string, GraphItem>>({ api: 'graph', url }, call);
  if (data === null || typeof data !== 'object') throw new MalformedResponseError('Mapillary GET /: expected an object keyed by id', { endpoint: 'GET /' });
  return keys.filter((k) => data[k] !== undefined).map((k) => data[k]!);
}

/** `GET /image_ids?sequence_id=`: the image ids of a sequence, in capture order. */
export async function sequenceImageIds(client: MapillaryClient, sequenceId: unknown, call: CallOptions = {}): Promise<string[]> {
  const url = client.url('graph', '/image_ids', { sequence_id: parseSequenceId(sequenceId) });
  const { data } = await client.json<{ data?: { id?: unknown }[] }>({ api: 'graph', url }, call);
  if (!Array.isArray(data?.data) || data.data.some((d) => typeof d?.id !== 'string')) {
    throw new MalformedResponseError('Mapillary GET /image_ids: expected {"data": [{"id": ...}]}', { endpoint: 'GET /image_ids' });
  }
  return data.data.map((d) => d.id as string);
}

/** `GET /me`: the user of the user access token. */
export async function me(client: MapillaryClient, call: CallOptions = {}): Promise<{ id: string; username: string }> {
  const url = client.url('graph', '/me', { fields: 'id,username' });
  const { data } = await client.json<{ id?: unknown; username?: unknown }>({ api: 'graph', url }, call);
  if (typeof data?.id !== 'string' || typeof data.username !== 'string') {
    throw new MalformedResponseError('Mapillary GET /me: expected {"id", "username"}', { endpoint: 'GET /me' });
  }
  return { id: data.id, username: data.username };
}

/** A vector tile, e.g. `tile(client, 'mly1_public/2', 14, x, y)`; the token goes in the query, as tiles want it. */
export function tile(client: MapillaryClient, tileset: string, z: number, x: number, y: number, call: CallOptions = {}): Promise<Uint8Array> {
  if (!/^[a-z0-9_]+(\/[a-z0-9_]+)*$/i.test(tileset)) throw new InvalidInputError('tileset: expected a name such as mly1_public/2');
  for (const [n, v] of [['z', z], ['x', x], ['y', y]] as const) {
    if (!Number.isInteger(v) || v < 0 || (n !== 'z' && v >= 2 ** z)) throw new InvalidInputError(`tile ${n}: ${v} is out of range`);
  }
  return client.bytes({ api: 'tiles', url: client.url('tiles', `/${tileset}/${z}/${x}/${y}`) }, call);
}
