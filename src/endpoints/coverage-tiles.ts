/**
 * Mapillary's coverage tiles as counters of an image search: the `image` layer of the zoom-14
 * tiles of `mly1_public` holds every image's position with captured_at, is_pano, sequence_id,
 * organization_id and id, so a tile counts the images of a search whose filters are among
 * those. A search that filters by creator, make or model cannot be counted this way.
 */
import type { Transport } from '../transport/transport';
import type { CoverageSource } from '../paging/coverage';
import type { Walk } from '../paging/walk';
import { tilePoint } from '../geo/tiles';
import { AbortError, MalformedResponseError } from '../errors';
import { vectorTileLibraries } from '../geo/vector-tile';
import { eventLoopTurns } from '../transport/sleep';

export const COVERAGE_TILESET = 'mly1_public/2';
export const COVERAGE_ZOOM = 14;


export interface ImageFilters {
  start_captured_at?: string;
  end_captured_at?: string;
  is_pano?: boolean;
  organization_id?: string;
  creator_username?: string;
  make?: string;
  model?: string;
  sequence_ids?: string[];
  image_ids?: string[];
}

type Properties = Record<string, string | number | boolean | undefined>;

/** A test of a tile's image against the search's filters; undefined when tiles cannot apply them. */
function tileFilter(filters: ImageFilters): ((p: Properties) => boolean) | undefined {
  if (filters.creator_username || filters.make || filters.model) return undefined;
  const from = filters.start_captured_at ? Date.parse(filters.start_captured_at) : -Infinity;
  const to = filters.end_captured_at ? Date.parse(filters.end_captured_at) : Infinity;
  const sequences = filters.sequence_ids ? new Set(filters.sequence_ids) : undefined;
  const ids = filters.image_ids ? new Set(filters.image_ids) : undefined;
  return (p) => {
    const captured = Number(p.captured_at);
    if (Number.isFinite(captured) && (captured < from || captured > to)) return false;
    if (filters.is_pano !== undefined && p.is_pano !== undefined && Boolean(p.is_pano) !== filters.is_pano) return false;
    if (filters.organization_id !== undefined && String(p.organization_id) !== filters.organization_id) return false;
    if (sequences && !sequences.has(String(p.sequence_id))) return false;
    if (ids && !ids.has(String(p.id))) return false;
    return true;
  };
}

/** The coverage tiles as a counter of this image search, or undefined when they cannot count it. */
export function imageCoverage(transport: Transport, filters: ImageFilters): CoverageSource | undefined {
  const keep = tileFilter(filters);
  if (!keep) return undefined;
  return {
    zoom: COVERAGE_ZOOM,
    async tile(x: number, y: number, walk: Walk): Promise<Float64Array> {
      const spec = { api: 'tiles' as const, url: transport.url('tiles', `/maps/vtp/${COVERAGE_TILESET}/${COVERAGE_ZOOM}/${x}/${y}`) };
      const endpoint = transport.endpointName(spec);
      walk.countRequest(endpoint);
      // One retry at most: tiles only save requests, and a walk does without them when they fail.
      const bytes = await transport.bytes(spec, { signal: walk.signal, onRetry: (info) => walk.retried(info), attempts: 2 });
      const [{ VectorTile }, { PbfReader }] = await vectorTileLibraries();
      let layer;
      try {
        layer = new VectorTile(new PbfReader(bytes)).layers.image;
      } catch (cause) {
        throw new MalformedResponseError(`Mapillary ${endpoint}: not a vector tile`, { endpoint, cause });
      }
      const positions: number[] = [];
      if (!layer) return Float64Array.from(positions);
      // A dense tile holds tens of thousands of images: the event loop gets turns meanwhile.
      const turns = eventLoopTurns();
      for (let i = 0; i < layer.length; i++) {
        const turn = turns.turn();
        if (turn) {
          await turn;
          if (walk.signal.aborted) throw new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
        }
        const feature = layer.feature(i);
        if (!keep(feature.properties as Properties)) continue;
        for (const ring of feature.loadGeometry()) {
          for (const point of ring) positions.push(...tilePoint(x, y, COVERAGE_ZOOM, point.x, point.y, layer.extent));
        }
      }
      return Float64Array.from(positions);
    },
  };
}
