import type { MapillaryError, Page, WalkStats } from '../../src';
import type { NodeAPI, NodeMessage, Send } from './red';
import { type ItemKind, type Position, positionOf, toMarker } from './worldmap';

export type OutputMode = 'page' | 'item';
export type Format = 'json' | 'geojson' | 'worldmap';

export interface Feature {
  type: 'Feature';
  id?: string;
  geometry: unknown;
  properties: Record<string, unknown>;
}

/** An API item as a GeoJSON Feature: v3 items already are; v4 items carry `geometry` and fields. */
export function toFeature(item: unknown): Feature {
  const record = item as Record<string, unknown>;
  if (record?.type === 'Feature') return record as unknown as Feature;
  const { id, geometry, ...properties } = record;
  const image = properties.image as { geometry?: unknown } | undefined;
  return {
    type: 'Feature',
    ...(id === undefined ? {} : { id: String(id) }),
    // A detection has no point of its own: it is placed at its image.
    geometry: geometry && typeof geometry === 'object' ? geometry : image?.geometry ?? null,
    properties,
  };
}

export interface Summary {
  items: number;
  pages: number;
  requests: number;
  retries: number;
  cellsSplit: number;
  /** Area searches: cells planned (grown by splits), and cells of the area's boxes skipped because they miss its shape. */
  cellsPlanned?: number;
  cellsSkipped?: number;
  /** Area image searches: coverage tiles fetched to size dense cells (also counted in `requests`). */
  tileRequests?: number;
  /** Only changes, a complete run: items new since the last complete run, gone since, and found by both. */
  added?: number;
  removed?: number;
  unchanged?: number;
  /** A harvest resumed after a stop: the cells and items its earlier runs had sent (not counted in `items`). */
  resumed?: { cells: number; items: number };
  warnings: { code: string; message: string; bbox?: readonly number[] }[];
  durationMs: number;
  ended: NonNullable<WalkStats['ended']>;
  error?: Record<string, unknown>;
}

/**
 * Turns pages into messages for the first output: one message per page (`payload` = array or
 * FeatureCollection), or one per item with `msg.parts` so a Join node in automatic mode rebuilds
 * the set. In item mode the last item is held back until the walk ends, so that it can carry
 * `parts.count`; a walk that fails sends it without a count (the set is not complete).
 */
export class Shaper {
  private held?: NodeMessage;
  private index = 0;
  private readonly partsId: string;

  /**
   * `kind`: what the items are (for world-map markers); `sourceAt`: where the source of a page
   * of detections (its image) is, when known.
   */
  constructor(
    private readonly RED: NodeAPI,
    private readonly msg: NodeMessage,
    private readonly mode: OutputMode,
    private readonly format: Format,
    private readonly send: Send,
    private readonly kind: ItemKind = 'image',
    private readonly sourceAt?: (source: string) => Position | undefined,
  ) {
    this.partsId = `${msg._msgid ?? 'mapillary'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  }

  page(page: Page<unknown>, meta: Record<string, unknown> = {}): void {
    const info = { page: page.index, ...(page.bbox ? { bbox: page.bbox } : {}), ...(page.warnings.length ? { warnings: page.warnings } : {}), ...meta };
    // Where each item is: from the walk (area searches), its geometry, or its source (detections).
    const source = page.source !== undefined ? this.sourceAt?.(page.source) : undefined;
    const known = (i: number): Position | undefined => {
      const lon = page.positions?.[2 * i];
      const lat = page.positions?.[2 * i + 1];
      return lon !== undefined && lat !== undefined && !Number.isNaN(lon) && !Number.isNaN(lat) ? [lon, lat] : undefined;
    };
    const at = (item: unknown, i: number): Position | undefined => known(i) ?? positionOf(item) ?? source;
    if (this.mode === 'page') {
      const out = this.RED.util.cloneMessage(this.msg);
      out.payload = this.format === 'geojson' ? { type: 'FeatureCollection', features: page.items.map(toFeature) }
        : this.format === 'worldmap' ? page.items.flatMap((item, i) => toMarker(item, this.kind, at(item, i)) ?? [])
        : page.items;
      out.mapillary = info;
      this.send([out, null]);
      return;
    }
    for (const [i, item] of page.items.entries()) {
      const position = at(item, i);
      // World map: an item without a position cannot be a marker.
      if (this.format === 'worldmap' && !position) continue;
      if (this.held) this.send([this.held, null]);
      const out = this.RED.util.cloneMessage(this.msg);
      out.payload = this.format === 'geojson' ? toFeature(item) : this.format === 'worldmap' ? toMarker(item, this.kind, position) : item;
      out.mapillary = info;
      // Where the item is, as geo nodes (geofence, say) read it.
      if (position) out.location = { lat: position[1], lon: position[0] };
      out.parts = { id: this.partsId, index: this.index++, type: 'array', len: 1, ...(this.msg.parts ? { parts: this.msg.parts } : {}) };
      this.held = out;
    }
  }

  /** Sends the item held back; with the total as `parts.count` when the walk is complete. */
  finish(complete: boolean): void {
    if (!this.held) return;
    if (complete && this.held.parts) this.held.parts.count = this.index;
    this.send([this.held, null]);
    this.held = undefined;
  }
}

export function summarise(stats: Readonly<WalkStats>, ended: Summary['ended'], error?: MapillaryError): Summary {
  const summary: Summary = {
    items: stats.items,
    pages: stats.pages,
    requests: stats.requests,
    retries: stats.retries,
    cellsSplit: stats.cellsSplit,
    ...(stats.cells ? { cellsPlanned: stats.cells.total, cellsSkipped: stats.cells.skipped, tileRequests: stats.tileRequests ?? 0 } : {}),
    ...(stats.resumed ? { resumed: { cells: stats.resumed.cells, items: stats.resumed.items } } : {}),
    warnings: stats.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.bbox ? { bbox: w.bbox } : {}) })),
    durationMs: Date.now() - stats.startedAt,
    ended,
  };
  if (error) summary.error = error.toJSON();
  return summary;
}
