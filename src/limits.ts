/**
 * Every limit and range of the package, in one place. Input over a limit is refused with
 * `MAPILLARY_INVALID_INPUT` naming the limit, before any pattern runs on it, so no input can
 * make a parser slow. The README's "Limits" section lists these; the editor reads the ranges
 * from the runtime (`RED.settings.mapillaryConfigLimits`).
 */

export const INPUT_LIMITS = {
  /** An area given as text ("minLon,minLat,maxLon,maxLat" or GeoJSON text): characters. */
  areaText: 500_000,
  /** Positions (coordinate pairs) in a GeoJSON area. */
  areaPositions: 100_000,
  /** Positions of a shape (polygons searched as such): each cell and each item near its boundary is tested against them. */
  shapePositions: 20_000,
  /** Nesting of GeoJSON containers (FeatureCollection, Feature, GeometryCollection). */
  areaDepth: 8,
  /** A list of ids or keys given as text: characters. */
  listText: 250_000,
  /** Ids or keys in one list (image ids, sequence ids, detections input). */
  listItems: 10_000,
  /** One short text value: a username, make, model, date, id, field name, class. */
  shortText: 256,
  /** Field names in one `fields` selection. */
  fields: 100,
  /** Characters of one field name. */
  fieldName: 64,
  /** Characters of a date as text. */
  dateText: 64,
  /** Object values (classes) or v3 layers/values, joined with commas: they go into one URL. */
  valuesText: 4_000,
  /** Characters of one id list in one request; longer lists are sent in several requests. */
  idsPerRequestText: 4_000,
} as const;

export interface Range { min: number; max: number; default: number }

/** Ranges of the settings of a config node and of the flow nodes. */
export const SETTING_RANGES = {
  /** Seconds per request. */
  timeout: { min: 1, max: 600, default: 30 },
  /** Area cells fetched at once. */
  concurrency: { min: 1, max: 64, default: 32 },
  /** Requests per minute shared by the nodes of one config; 0 = no ceiling. */
  requestsPerMinute: { min: 0, max: 60_000, default: 6000 },
  /** Items per harvest; 0 = no cap. */
  maxItems: { min: 0, max: 100_000_000, default: 5000 },
  /** Requests per harvest (area cells are planned against it before the first request). */
  maxRequests: { min: 1, max: 1_000_000, default: 10_000 },
} as const satisfies Record<string, Range>;
