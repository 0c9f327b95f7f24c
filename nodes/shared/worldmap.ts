/**
 * Items as markers of node-red-contrib-web-worldmap (its `msg.payload` of `{name, lat, lon, ...}`;
 * property names as its worldmap/worldmap.js reads them): a stable, unique `name` per item (so
 * sending it again moves the marker instead of adding one), a layer and an icon per kind, a view
 * cone for images (`arc`, drawn as range rings from `pan` over `fov` degrees), a thumbnail
 * (`photoUrl`) and a link to the item on mapillary.com (`weblink`). Other properties are shown
 * in the marker's popup.
 */

export type ItemKind = 'image' | 'map feature' | 'detection';
export type Position = readonly [lon: number, lat: number];

export interface Marker {
  name: string;
  lat: number;
  lon: number;
  layer: string;
  icon: string;
  iconColor: string;
  [key: string]: unknown;
}

const GREEN = '#05CB63';

/** Icons (Font Awesome 4, as worldmap ships it) and colours of map features by the start of their class. */
const FEATURE_STYLES: [prefix: string, icon: string, color: string][] = [
  ['regulatory--', 'fa-ban', '#d62728'],
  ['warning--', 'fa-exclamation-triangle', '#ff7f0e'],
  ['information--', 'fa-info-circle', '#1f77b4'],
  ['complementary--', 'fa-square', '#7f7f7f'],
];

/** An item's [lon, lat] from its GeoJSON-like geometry (v4 items, GeoJSON Features). */
export function positionOf(item: unknown): Position | undefined {
  const record = item as { geometry?: { coordinates?: unknown }; computed_geometry?: { coordinates?: unknown } } | null;
  const coordinates = record?.geometry?.coordinates ?? record?.computed_geometry?.coordinates;
  if (!Array.isArray(coordinates)) return undefined;
  const [lon, lat] = coordinates as unknown[];
  return typeof lon === 'number' && typeof lat === 'number' && Number.isFinite(lon) && Number.isFinite(lat) ? [lon, lat] : undefined;
}

/** A time as the API gives it (epoch ms, or ISO text) as ISO text. */
function isoTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value === 'string' && value !== '' && !Number.isNaN(Date.parse(value))) return new Date(Date.parse(value)).toISOString();
  return undefined;
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The marker of an item at `at` (its position; undefined when it has none: worldmap needs one). */
export function toMarker(item: unknown, kind: ItemKind, at: Position | undefined): Marker | undefined {
  if (!at) return undefined;
  const record = (item ?? {}) as Record<string, unknown>;
  const id = String(record.id ?? '');
  const [lon, lat] = at;
  if (kind === 'image') {
    const bearing = finite(record.compass_angle) ?? finite(record.computed_compass_angle);
    const marker: Marker = {
      name: `mapillary-image-${id}`, lat, lon, layer: 'Mapillary images', icon: 'fa-camera', iconColor: GREEN, id,
      weblink: { name: 'Open in Mapillary', url: `https://www.mapillary.com/app/?pKey=${encodeURIComponent(id)}`, target: '_blank' },
    };
    if (bearing !== undefined) {
      marker.bearing = bearing;
      // The view: a cone of 60° (a whole circle for panoramas), drawn 15 m out.
      marker.arc = { pan: bearing, fov: record.is_pano === true ? 360 : 60, ranges: [15], color: GREEN };
    }
    const captured = isoTime(record.captured_at);
    if (captured) marker.captured = captured;
    if (typeof record.thumb_256_url === 'string') marker.photoUrl = record.thumb_256_url;
    const creator = (record.creator as { username?: unknown } | undefined)?.username;
    if (typeof creator === 'string') marker.creator = creator;
    return marker;
  }
  if (kind === 'map feature') {
    const value = typeof record.object_value === 'string' ? record.object_value : '';
    const sign = record.object_type === 'trafficsign' || FEATURE_STYLES.some(([prefix]) => value.startsWith(prefix));
    const [, icon, color] = FEATURE_STYLES.find(([prefix]) => value.startsWith(prefix)) ?? ['', sign ? 'fa-exclamation-triangle' : 'fa-map-marker', sign ? '#ff7f0e' : '#9467bd'];
    const marker: Marker = {
      name: `mapillary-feature-${id}`, lat, lon, layer: sign ? 'Mapillary traffic signs' : 'Mapillary points', icon, iconColor: color, id, value,
      weblink: { name: 'Open in Mapillary', url: `https://www.mapillary.com/app/?lat=${lat}&lng=${lon}&z=19`, target: '_blank' },
    };
    const first = isoTime(record.first_seen_at);
    const last = isoTime(record.last_seen_at);
    if (first) marker.firstSeen = first;
    if (last) marker.lastSeen = last;
    const direction = finite(record.aligned_direction);
    if (direction !== undefined) marker.bearing = direction;
    return marker;
  }
  // A detection sits at its image.
  const image = (record.image as { id?: unknown } | undefined)?.id;
  const marker: Marker = {
    name: `mapillary-detection-${id}`, lat, lon, layer: 'Mapillary detections', icon: 'fa-eye', iconColor: '#17becf', id,
    value: typeof record.value === 'string' ? record.value : '',
  };
  if (image !== undefined) {
    marker.image = String(image);
    marker.weblink = { name: 'Open the image in Mapillary', url: `https://www.mapillary.com/app/?pKey=${encodeURIComponent(String(image))}`, target: '_blank' };
  }
  return marker;
}
