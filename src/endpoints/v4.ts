import type { Transport } from '../transport/transport';
import { formatBBox } from '../geo/bbox';
import type { Placement } from '../geo/shape';
import { parseSearchArea, type SearchArea } from '../parse/area';
import { areaPages } from '../paging/area';
import { type CheckpointCell, searchDigest } from '../paging/checkpoint';
import { followNext } from '../paging/follow-next';
import { DEFAULT_MAX_REQUESTS, type Page, PageStream, Walk, type WalkOptions } from '../paging/walk';
import { gridCells } from '../geo/cells';
import { INPUT_LIMITS, SETTING_RANGES } from '../limits';
import { AreaTooLargeError, InvalidInputError, MalformedResponseError } from '../errors';
import type { CallOptions } from '../transport/types';
import { parseFields } from '../parse/fields';
import { CLASS, parseValueList } from '../parse/lists';
import { invalid, limitText, listItems, parseDateRange, parseId, parseIdList, parsePositiveInt, parseSequenceId } from '../parse/values';
import { chunkList } from './chunks';
import { type ImageFilters, imageCoverage } from './coverage-tiles';
import { Coverage, type CoverageSource } from '../paging/coverage';
import { fieldsQuery, withGeometry } from './fields';

/** An item of the v4 Graph API: a flat object with a string `id` and the fields asked for. */
export interface GraphItem {
  id: string;
  geometry?: { type: string; coordinates: number[] };
  [field: string]: unknown;
}

/** The v4 image fields a flow may ask for (the editor's checklist). */
export const IMAGE_FIELDS = [
  'id', 'geometry', 'captured_at', 'compass_angle', 'computed_compass_angle', 'computed_geometry', 'sequence',
  'creator', 'make', 'model', 'camera_type', 'is_pano', 'width', 'height', 'altitude', 'quality_score',
  'thumb_256_url', 'thumb_1024_url', 'thumb_2048_url', 'thumb_original_url',
] as const;
export const DEFAULT_IMAGE_FIELDS = [
  'id', 'geometry', 'captured_at', 'compass_angle', 'sequence', 'creator', 'thumb_256_url', 'thumb_1024_url',
] as const;
/** The v4 map feature fields a flow may ask for. */
export const MAP_FEATURE_FIELDS = [
  'id', 'geometry', 'object_value', 'object_type', 'first_seen_at', 'last_seen_at', 'aligned_direction', 'images',
] as const;
export const DEFAULT_MAP_FEATURE_FIELDS = [
  'id', 'geometry', 'object_value', 'object_type', 'first_seen_at', 'last_seen_at', 'aligned_direction',
] as const;
/** The v4 detection fields a flow may ask for; all of them by default. */
export const DETECTION_FIELDS = ['id', 'value', 'created_at', 'geometry', 'image'] as const;
export const DEFAULT_DETECTION_FIELDS = DETECTION_FIELDS;
/** The detection fields that decoding a polygon needs (asked for whatever else is chosen). */
export const DECODE_FIELDS = ['geometry', 'image'] as const;

/** The field choices of each search, as the editor shows them. */
export const FIELD_CHOICES = {
  images: { all: IMAGE_FIELDS, defaults: DEFAULT_IMAGE_FIELDS },
  mapFeatures: { all: MAP_FEATURE_FIELDS, defaults: DEFAULT_MAP_FEATURE_FIELDS },
  detections: { all: DETECTION_FIELDS, defaults: DEFAULT_DETECTION_FIELDS, decode: DECODE_FIELDS },
} as const;

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
  /**
   * Image searches: count dense cells with Mapillary's coverage tiles before cutting them (default
   * true). Tiles have their own daily budget; they are fetched only where they save requests.
   */
  coverageTiles?: boolean;
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
  if (typeof input !== 'string') throw invalid(what, 'text', input);
  return limitText(input, what).trim() || undefined;
}

function pointOf(item: GraphItem): readonly number[] | undefined {
  return Array.isArray(item.geometry?.coordinates) ? item.geometry.coordinates : undefined;
}

/** The walks of several queries one after the other, in one walk (caps and statistics shared). */
function chained(sources: ((walk: Walk) => AsyncGenerator<Page<GraphItem>, void, undefined>)[]) {
  return async function* pages(walk: Walk): AsyncGenerator<Page<GraphItem>, void, undefined> {
    // A resumed walk starts at the query it was in (the earlier ones are done).
    for (let i = walk.query; i < sources.length; i++) {
      if (walk.full) return;
      walk.query = i;
      yield* sources[i]!(walk);
    }
  };
}

/** Cells × shape positions tested while planning, at most (about a third of a second). */
const PLAN_WORK = 300_000;

/**
 * The cells of the area, counted before the first request: for a shape, only those that meet it
 * (the others are skipped). Refuses an area whose cells alone need more requests than the walk
 * may make, with a hint when it was read as crossing the antimeridian.
 */
function planArea(area: SearchArea, queries: number, options: WalkOptions): { planned: number; skipped: number; placements?: Placement[][] } {
  const grids = area.boxes.map((box) => gridCells(box, AREA_LIMITS.maxCellArea));
  const all = grids.reduce((sum, grid) => sum + grid.count, 0);
  const max = options.maxRequests && options.maxRequests > 0 ? options.maxRequests : DEFAULT_MAX_REQUESTS;
  // For a shape, the cells that meet it are counted when that is cheap enough to do at once;
  // otherwise every cell of its boxes counts (an upper bound) and those that miss the shape are
  // skipped, and counted as skipped, as the walk comes to them.
  let cells = all;
  const shape = area.shape;
  const placements = shape && all * shape.vertices <= PLAN_WORK ? grids.map((grid) => [...grid.cells()].map((cell) => shape.place(cell))) : undefined;
  if (placements) cells = placements.reduce((sum, grid) => sum + grid.filter((p) => p !== 'outside').length, 0);
  const needed = cells * queries;
  if (needed > max) {
    const width = area.boxes.reduce((sum, box) => sum + (box[2] - box[0]), 0);
    const crossing = !area.shape && area.boxes.length === 2 && width > 180
      ? ` The area was read as crossing the antimeridian (minLon ${area.boxes[0]![0]} is greater than maxLon ${area.boxes[1]![2]}), ${Math.round(width)}° wide: were the longitudes swapped?`
      : '';
    const times = queries > 1 ? ` × ${queries} id groups` : '';
    const outline = shape && !placements ? ' (counting every cell of the shape\'s boxes: the shape is too detailed to count its own at once)' : '';
    throw new AreaTooLargeError(
      `The area needs at least ${needed.toLocaleString('en-US')} requests (${cells.toLocaleString('en-US')} cells of under ${AREA_LIMITS.maxCellArea} square degrees${times}${outline}), more than max requests (${max.toLocaleString('en-US')}). Harvest a smaller area, or raise max requests.${crossing}`,
    );
  }
  return { planned: needed, skipped: (all - cells) * queries, placements };
}

/**
 * A walk over a v4 area search, or over a filtered search when there is no area; one search per
 * query (long id lists are sent in several), one after the other.
 */
function search(
  transport: Transport, path: string, label: string, areaInput: unknown, queries: Query[],
  fields: string[], area: AreaOptions, options: WalkOptions,
  counter?: (query: Query) => CoverageSource | undefined,
): PageStream<GraphItem> {
  const limit = parsePositiveInt(area.limit ?? AREA_LIMITS.maxLimit, 'limit', { min: 1, max: AREA_LIMITS.maxLimit });
  if (areaInput == null || areaInput === '') {
    const walk = new Walk(options, transport.closeSignal);
    return new PageStream(walk, chained(queries.map((query) => followNext<GraphItem>(transport, transport.url('graph', path, { ...query, fields: fieldsQuery(fields), limit })))));
  }
  const searchArea = parseSearchArea(areaInput);
  const plan = planArea(searchArea, queries.length, options);
  const { request, dropGeometry } = withGeometry(fields);
  const minCellSide = area.minCellSide ?? AREA_LIMITS.minCellSide;
  if (!(minCellSide > 0)) throw new InvalidInputError('minCellSide: must be a positive number of degrees');
  if (area.coverageTiles !== undefined && typeof area.coverageTiles !== 'boolean') throw invalid('coverage tiles', 'true or false', area.coverageTiles);
  const tiles = area.coverageTiles !== false && transport.tilesUsable();
  const walk = new Walk(options, transport.closeSignal);
  walk.stats.cells = { done: 0, total: plan.planned, skipped: plan.skipped };
  // What a checkpoint belongs to: everything that decides the cells and their items.
  walk.resumable = {
    areas: searchArea.boxes.length,
    boxes: searchArea.boxes,
    params: area,
    queries: queries.length,
    plan: () => {
      if (queries.length > 1) throw new InvalidInputError('A search with long id lists (sent in several requests) cannot be planned into cells');
      return planCells(searchArea, plan.placements);
    },
    search: searchDigest([path, queries, searchArea.boxes, searchArea.shape?.key() ?? null, request, limit, minCellSide, AREA_LIMITS.maxCellArea]),
  };
  return new PageStream(walk, chained(queries.map((query) => areaPages<GraphItem>(transport, {
    areas: searchArea.boxes,
    shape: searchArea.shape,
    placements: plan.placements,
    limit,
    maxCellArea: AREA_LIMITS.maxCellArea,
    minCellSide,
    concurrency: options.concurrency ?? SETTING_RANGES.concurrency.default,
    coverage: tiles ? coverageOf(counter?.(query), () => transport.tilesFailed()) : undefined,
    label,
    locate: pointOf,
    present: dropGeometry ? ({ geometry: _dropped, ...rest }) => rest as GraphItem : undefined,
    url: (cell, cellLimit) => transport.url('graph', path, { ...query, bbox: formatBBox(cell), fields: fieldsQuery(request), limit: cellLimit }),
  }))));
}

/** The cells of the area's grids that meet it, in order (placed against the shape when there is one). */
function planCells(area: SearchArea, placements?: Placement[][]): CheckpointCell[] {
  const out: CheckpointCell[] = [];
  area.boxes.forEach((box, a) => {
    let k = 0;
    for (const cell of gridCells(box, AREA_LIMITS.maxCellArea).cells()) {
      const placement = placements?.[a]?.[k++] ?? area.shape?.place(cell) ?? 'boundary';
      if (placement === 'outside') continue;
      out.push({ a, b: cell, ...(placement === 'inside' ? { i: 1 as const } : {}) });
    }
  });
  return out;
}

const coverageOf = (source: CoverageSource | undefined, failed: () => void): Coverage | undefined => (source ? new Coverage(source, failed) : undefined);

/** `GET /images`: by area (split into cells), or by creator, sequences, ids or organization. */
export function searchImages(transport: Transport, params: ImageSearch, options: WalkOptions = {}): PageStream<GraphItem> {
  const captured = parseDateRange(params.startCapturedAt, params.endCapturedAt, 'captured at');
  const sequenceIds = params.sequenceIds == null || params.sequenceIds === '' ? undefined
    : (listItems(params.sequenceIds, 'sequence ids') ?? [params.sequenceIds]).map((s, i) => parseSequenceId(typeof s === 'string' ? s.trim() : s, `sequence ids (item ${i + 1})`));
  const imageIds = params.imageIds == null || params.imageIds === '' ? undefined : parseIdList(params.imageIds, 'image ids');
  const query: Query = {
    start_captured_at: captured.start,
    end_captured_at: captured.end,
    creator_username: text(params.creatorUsername, 'creator username'),
    is_pano: params.isPano,
    make: text(params.make, 'make'),
    model: text(params.model, 'model'),
    organization_id: params.organizationId == null || params.organizationId === '' ? undefined : parseId(params.organizationId, 'organization id'),
  };
  const hasArea = params.bbox != null && params.bbox !== '';
  if (!hasArea && !query.creator_username && !sequenceIds?.length && !imageIds?.length && !query.organization_id) {
    throw new InvalidInputError('image search: give an area (bbox), or a creator username, sequence ids, image ids or an organization id');
  }
  const fields = parseFields(params.fields, DEFAULT_IMAGE_FIELDS, 'image fields');
  // Long id lists go in several requests, each URL within a safe length; each image has one
  // id and one sequence, so the groups' answers do not overlap.
  let queries: Query[] = [query];
  if (sequenceIds?.length) queries = chunkList(sequenceIds, INPUT_LIMITS.idsPerRequestText).map((ids) => ({ ...query, sequence_ids: ids }));
  if (imageIds?.length) queries = queries.flatMap((q) => chunkList(imageIds, INPUT_LIMITS.idsPerRequestText).map((ids) => ({ ...q, image_ids: ids })));
  return search(transport, '/images', 'images', params.bbox, queries, fields, params, options, (q) => imageCoverage(transport, {
    ...(q as ImageFilters), sequence_ids: q.sequence_ids === undefined ? undefined : String(q.sequence_ids).split(','),
    image_ids: q.image_ids === undefined ? undefined : String(q.image_ids).split(','),
  }));
}

/** `GET /map_features` in an area (split into cells). */
export function searchMapFeatures(transport: Transport, params: MapFeatureSearch, options: WalkOptions = {}): PageStream<GraphItem> {
  if (params.bbox == null || params.bbox === '') throw new InvalidInputError('map feature search: an area (bbox) is needed');
  const first = parseDateRange(params.startFirstSeenAt, params.endFirstSeenAt, 'first seen');
  const last = parseDateRange(params.startLastSeenAt, params.endLastSeenAt, 'last seen');
  const query: Query = {
    object_values: parseValueList(params.objectValues, 'object values', CLASS, 'a class such as regulatory--stop--g1 or regulatory--*'),
    start_first_seen_at: first.start,
    end_first_seen_at: first.end,
    start_last_seen_at: last.start,
    end_last_seen_at: last.end,
  };
  const fields = parseFields(params.fields, DEFAULT_MAP_FEATURE_FIELDS, 'map feature fields');
  return search(transport, '/map_features', 'map features', params.bbox, [query], fields, params, options);
}

/**
 * `GET /{id}/detections` of images or map features, one after the other in one walk (caps and
 * statistics shared); follows `paging.next`. Each page names its image or map feature.
 */
export function detections(transport: Transport, ids: unknown, fields: unknown, options: WalkOptions = {}): PageStream<GraphItem> {
  const keys = Array.isArray(ids) ? parseIdList(ids, 'ids') : [parseId(ids, 'image or map feature id')];
  const query = { fields: fieldsQuery(parseFields(fields, DEFAULT_DETECTION_FIELDS, 'detection fields')) };
  const walk = new Walk(options, transport.closeSignal);
  return new PageStream(walk, async function* pages(w: Walk): AsyncGenerator<Page<GraphItem>, void, undefined> {
    for (const key of keys) {
      if (w.full) return;
      for await (const page of followNext<GraphItem>(transport, transport.url('graph', `/${key}/detections`, query))(w)) {
        page.source = key;
        yield page;
      }
    }
  }, { keepEmpty: true });
}

/** `GET /{id}`: one image or map feature. */
export async function entity(transport: Transport, id: unknown, fields: unknown, defaults: readonly string[], call: CallOptions = {}): Promise<GraphItem> {
  const key = parseId(id, 'id');
  const url = transport.url('graph', `/${key}`, { fields: fieldsQuery(parseFields(fields, defaults)) });
  const { data } = await transport.json<GraphItem>({ api: 'graph', url }, call);
  if (data === null || typeof data !== 'object' || typeof data.id !== 'string') {
    throw new MalformedResponseError(`Mapillary GET /${key}: expected an object with an id`, { endpoint: `GET /${key}` });
  }
  return data;
}

/** `GET /?ids=a,b,c`: several entities of one type at once, in the order asked. */
export async function entities(transport: Transport, ids: unknown, fields: unknown, defaults: readonly string[], call: CallOptions = {}): Promise<GraphItem[]> {
  const keys = parseIdList(ids, 'ids');
  const fieldList = fieldsQuery(parseFields(fields, defaults));
  const found = new Map<string, GraphItem>();
  // Long lists go in several requests, each URL within a safe length.
  for (const group of chunkList(keys, INPUT_LIMITS.idsPerRequestText)) {
    const url = transport.url('graph', '/', { ids: group, fields: fieldList });
    const { data } = await transport.json<Record<string, GraphItem>>({ api: 'graph', url }, call);
    if (data === null || typeof data !== 'object') throw new MalformedResponseError('Mapillary GET /: expected an object keyed by id', { endpoint: 'GET /' });
    for (const key of group.split(',')) if (Object.hasOwn(data, key) && data[key] !== undefined) found.set(key, data[key]!);
  }
  return keys.filter((k) => found.has(k)).map((k) => found.get(k)!);
}

/** `GET /image_ids?sequence_id=`: the image ids of a sequence, in capture order. */
export async function sequenceImageIds(transport: Transport, sequenceId: unknown, call: CallOptions = {}): Promise<string[]> {
  const url = transport.url('graph', '/image_ids', { sequence_id: parseSequenceId(sequenceId) });
  const { data } = await transport.json<{ data?: { id?: unknown }[] }>({ api: 'graph', url }, call);
  if (!Array.isArray(data?.data) || data.data.some((d) => typeof d?.id !== 'string')) {
    throw new MalformedResponseError('Mapillary GET /image_ids: expected {"data": [{"id": ...}]}', { endpoint: 'GET /image_ids' });
  }
  return data.data.map((d) => d.id as string);
}

/** `GET /me`: the user of the user access token. */
export async function me(transport: Transport, call: CallOptions = {}): Promise<{ id: string; username: string }> {
  const url = transport.url('graph', '/me', { fields: 'id,username' });
  const { data } = await transport.json<{ id?: unknown; username?: unknown }>({ api: 'graph', url }, call);
  if (typeof data?.id !== 'string' || typeof data.username !== 'string') {
    throw new MalformedResponseError('Mapillary GET /me: expected {"id", "username"}', { endpoint: 'GET /me' });
  }
  return { id: data.id, username: data.username };
}

/** A vector tile, e.g. `tile(transport, 'mly1_public/2', 14, x, y)`; the token goes in the query, as tiles want it. */
export function tile(transport: Transport, tileset: string, z: number, x: number, y: number, call: CallOptions = {}): Promise<Uint8Array> {
  if (!/^[a-z0-9_]+(\/[a-z0-9_]+)*$/i.test(tileset)) throw new InvalidInputError('tileset: expected a name such as mly1_public/2');
  for (const [n, v] of [['z', z], ['x', x], ['y', y]] as const) {
    if (!Number.isInteger(v) || v < 0 || (n !== 'z' && v >= 2 ** z)) throw new InvalidInputError(`tile ${n}: ${v} is out of range`);
  }
  // Mapillary's vector tiles live below /maps/vtp on the tiles host.
  return transport.bytes({ api: 'tiles', url: transport.url('tiles', `/maps/vtp/${tileset}/${z}/${x}/${y}`) }, call);
}
