/**
 * The sandbox world: a deterministic fake Mapillary (users, sequences of images, detections,
 * map features) built from a fixed seed in about 0.15 s, plus ground-truth helpers for tests.
 * Bboxes are [minLon, minLat, maxLon, maxLat]; coordinates are quantised to 1e-6 degrees except
 * the edge lines below.
 *
 * - denseCentre: 9110 images, 2400 map features. The whole area (one v4 cell) holds 9110 > 5000
 *   images (code 1). Halving it: the NW quarter holds 5666 (code 1 again), the other quarters
 *   1166 each; in the NW quarter, the NW eighth holds 2624 (over limit 2000: cut), the others
 *   1024, and the quarters of that eighth 486-775. 210 images lie on ten "edge lines" whose lon
 *   or lat is bit-identical to what halving gives (`min + (max - min) * 1 / 2`: 13.41,
 *   13.405000000000001, 13.415, 52.515, 52.5125, 52.5175) or to the area edges, 21 per line.
 *   The 2400 map features exceed one limit (2000) but no quarter does (1460 at most).
 * - suburb: 800 images, 150 map features over 0.3 x 0.3 degrees (12 cells of a v4 grid).
 * - sea: nothing. antimeridian: 120 images, 80 east and 40 west of 180 (one sequence crosses).
 * - hotspot: 2500 images on one identical coordinate (HOTSPOT_POINT), below the code-1 threshold.
 * Images: sequences of 50 (21 on edge lines, 40 near the antimeridian), 20 creators (the sandbox
 * user has 932 images), 6 camera models, 1111 panoramas, 3 organizations; 0-3 detections each.
 */
import { createHash } from 'node:crypto';
import { encodeDetectionGeometry } from './mvt';

export type BBox = readonly [minLon: number, minLat: number, maxLon: number, maxLat: number];

export const SANDBOX_CREDENTIALS = {
  clientId: '4242',
  clientToken: 'MLY|4242|sandbox-client-token',
  clientSecret: 'MLY|4242|sandbox-client-secret',
  userToken: 'MLY|4242|sandbox-user-token',
  username: 'sandbox-user',
} as const;

export const AREAS = {
  denseCentre: [13.40, 52.51, 13.42, 52.52],
  suburb: [13.05, 52.20, 13.35, 52.50],
  sea: [3.00, 54.00, 3.20, 54.20],
  antimeridian: [179.95, -17.0, -179.95, -16.9],
  hotspot: [2.2940, 48.8580, 2.2950, 48.8590],
} as const satisfies Record<string, BBox>;

/** Off every halving line of the hotspot box, so no split can put it on a cell edge. */
export const HOTSPOT_POINT = [2.29463, 48.85847] as const;

export interface Point { type: 'Point'; coordinates: [lon: number, lat: number] }
export interface Camera { make: string; model: string; camera_type: string; width: number; height: number }
export interface User { id: string; username: string; camera: Camera; organization_id?: string }
export interface Sequence { id: string; creator: Creator; image_ids: string[] }
/** An image's `creator`, exactly as v4 returns it. */
export interface Creator { username: string; id: string }
export type Layer = 'trafficsigns' | 'instances' | 'segmentations';

/** An image with every v4 field (`captured_at` in epoch ms), `detections` as a plain list. */
export interface Image {
  id: string; altitude: number; camera_type: string; captured_at: number; compass_angle: number;
  computed_altitude: number; computed_compass_angle: number; computed_geometry: Point; creator: Creator;
  exif_orientation: number; geometry: Point; height: number; width: number; is_pano: boolean; make: string;
  model: string; quality_score: number; sequence: string; detections: Detection[];
  /** Search filter and tile property, not a v4 image field. */
  organization_id?: string;
}

/** A detection with its v4 fields (`geometry`: see World.detectionGeometry) and sandbox extras. */
export interface Detection {
  id: string; value: string; created_at: string; image_id: string; map_feature_id?: string;
  /** v3 layer and score. */ layer: Layer; score: number;
  /** Quadrilateral in 4096-extent tile coordinates, not closed. */ polygon: Array<[number, number]>;
}

/** A map feature with its v4 fields, the detections that made it, and v3 extras. */
export interface MapFeature {
  id: string; object_value: string; object_type: 'trafficsign' | 'point'; geometry: Point; aligned_direction: number;
  first_seen_at: string; last_seen_at: string; detections: Detection[];
  /** v3 only. */ accuracy: number; altitude: number;
}

const CAMERAS: Camera[] = [
  { make: 'Apple', model: 'iPhone 7', camera_type: 'perspective', width: 4160, height: 3120 },
  { make: 'samsung', model: 'SM-G991B', camera_type: 'perspective', width: 4000, height: 3000 },
  { make: 'GoPro', model: 'HERO8 Black', camera_type: 'fisheye', width: 4000, height: 3000 },
  { make: 'SONY', model: 'DSC-RX100M3', camera_type: 'perspective', width: 5472, height: 3648 },
  { make: 'GoPro', model: 'GoPro Max', camera_type: 'spherical', width: 5760, height: 2880 },
  { make: 'Insta360', model: 'ONE X2', camera_type: 'spherical', width: 6080, height: 3040 },
];
const USERNAMES = [
  SANDBOX_CREDENTIALS.username, 'anna-maps', 'bikecam-ben', 'carla.k', 'dashcam_dirk', 'elena_walks', 'fritz',
  'greta-geo', 'hans_im_glueck', 'ines.mapper', 'jonas360', 'kai-cyclist', 'lena_lens', 'mo_streets',
  'nora-north', 'oskar.o', 'paula_pano', 'quentin-q', 'rosa_routes', 'sven_survey',
];
const SIGN_VALUES = [
  'regulatory--stop--g1', 'regulatory--no-entry--g1', 'regulatory--maximum-speed-limit-30--g1', 'regulatory--yield--g1',
  'warning--pedestrians-crossing--g4', 'warning--children--g2', 'information--parking--g1',
  'information--pedestrians-crossing--g1', 'information--general-directions--g1',
  'complementary--both-directions--g2', 'complementary--chevron-left--g1',
];
const POINT_VALUES = [
  'object--traffic-light--general-upright', 'object--fire-hydrant', 'object--street-light', 'object--bench',
  'object--support--utility-pole', 'object--manhole',
];
const SEGMENT_VALUES = ['construction--flat--crosswalk-plain', 'marking--discrete--crosswalk-zebra', 'nature--vegetation'];

/** The 22-character legacy (v3) key of an image, detection, map feature, user or organization. */
const legacyKey = (id: string): string => createHash('sha256').update(`v3:${id}`).digest('base64url').slice(0, 22);

/** Closed-box test; a box with minLon > maxLon crosses the antimeridian. */
export function inBBox(lon: number, lat: number, [w, s, e, n]: BBox): boolean {
  return lat >= s && lat <= n && (w <= e ? lon >= w && lon <= e : lon >= w || lon <= e);
}

/** `2021-05-20T20:30:46+0000`, the v4 timestamp format. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
const point = (lon: number, lat: number): Point => ({ type: 'Point', coordinates: [lon, lat] });

/** Where halving [min, max] puts the edge, bit for bit. */
const halve = (min: number, max: number): number => min + ((max - min) * 1) / 2;
const q = (v: number): number => Math.round(v * 1e6) / 1e6;
const inset = ([w, s, e, n]: BBox, d: number): BBox => [w + d, s + d, e - d, n - d];
const DAY = 86_400_000;
const EPOCH_START = Date.UTC(2016, 0, 1);
const EPOCH_END = Date.UTC(2024, 11, 31);

/** Seeded PRNG in [0, 1). */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Stop = [lon: number, lat: number, heading: number];

function generate() {
  const rand = mulberry32(20210520);
  const between = (min: number, max: number): number => min + rand() * (max - min);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const used = new Set<string>();
  const numericId = (): string => {
    for (;;) {
      const id = String((1 + Math.floor(rand() * 9)) * 1e14 + Math.floor(rand() * 1e5) * 1e9 + Math.floor(rand() * 1e9));
      if (!used.has(id)) return used.add(id), id;
    }
  };
  const keyChars = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const sequenceKey = (): string => Array.from({ length: 22 }, () => pick(keyChars)).join('');

  const organizations = [numericId(), numericId(), numericId()];
  const [perspective, spherical] = [CAMERAS.filter((c) => c.camera_type !== 'spherical'), CAMERAS.filter((c) => c.camera_type === 'spherical')];
  const users: User[] = USERNAMES.map((username, i) => ({
    id: numericId(), username, camera: pick(/pano|360/.test(username) ? spherical : perspective),
    organization_id: i % 4 === 1 ? organizations[i % 3] : undefined,
  }));
  const images: Image[] = [];
  const sequences: Sequence[] = [];
  const detections: Detection[] = [];
  const mapFeatures: MapFeature[] = [];
  const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

  function addSequence(stops: Stop[]): Image[] {
    const user = pick(users);
    const creator: Creator = { username: user.username, id: user.id };
    const sequence: Sequence = { id: sequenceKey(), creator, image_ids: [] };
    let time = Math.round(between(EPOCH_START, EPOCH_END));
    const added = stops.map(([lon, lat, heading]): Image => {
      time += 1500 + Math.floor(rand() * 1000);
      const altitude = round(between(30, 60), 3);
      return {
        id: numericId(), altitude, camera_type: user.camera.camera_type, captured_at: time,
        compass_angle: round((heading + between(-8, 8) + 360) % 360, 2), computed_altitude: round(altitude + between(-2, 2), 3),
        computed_compass_angle: round(heading, 2),
        computed_geometry: point(q(lon + between(-1e-5, 1e-5)), q(lat + between(-1e-5, 1e-5))), creator,
        exif_orientation: 1, geometry: point(lon, lat), height: user.camera.height, width: user.camera.width,
        is_pano: user.camera.camera_type === 'spherical', make: user.camera.make, model: user.camera.model,
        quality_score: round(between(0.3, 1), 3), sequence: sequence.id, detections: [], organization_id: user.organization_id,
      };
    });
    sequence.image_ids = added.map((image) => image.id);
    sequences.push(sequence);
    images.push(...added);
    return added;
  }

  /** A drive of `count` stops inside `zone` (reflecting at its edges); lon may run past 180. */
  function walk(zone: BBox, count: number, step: number, start?: Stop): Stop[] {
    let [lon, lat, heading] = start ?? [between(zone[0], zone[2]), between(zone[1], zone[3]), rand() * 360];
    const stops: Stop[] = [];
    for (let i = 0; i < count; i++) {
      stops.push([q(lon > 180 ? lon - 360 : lon), q(lat), heading]);
      heading = (heading + between(-15, 15) + 360) % 360;
      lon += (step * Math.sin((heading * Math.PI) / 180)) / Math.cos((lat * Math.PI) / 180);
      lat += step * Math.cos((heading * Math.PI) / 180);
      if (lon < zone[0] || lon > zone[2]) [lon, heading] = [lon < zone[0] ? 2 * zone[0] - lon : 2 * zone[2] - lon, 360 - heading];
      if (lat < zone[1] || lat > zone[3]) [lat, heading] = [lat < zone[1] ? 2 * zone[1] - lat : 2 * zone[3] - lat, (540 - heading) % 360];
    }
    return stops;
  }

  function addDetection(image: Image, value: string, mapFeatureId?: string): Detection {
    const [x, y, w, h] = [between(0, 3700), between(0, 3700), between(20, 380), between(20, 380)].map(Math.floor);
    const skew = Math.floor(between(0, 15));
    const detection: Detection = {
      id: numericId(), value, created_at: isoSeconds(image.captured_at + between(1, 30) * DAY), image_id: image.id,
      map_feature_id: mapFeatureId,
      layer: SIGN_VALUES.includes(value) ? 'trafficsigns' : POINT_VALUES.includes(value) ? 'instances' : 'segmentations',
      score: round(between(0.5, 0.99), 3), polygon: [[x, y + skew], [x + w, y], [x + w, y + h], [x, y + h + skew]],
    };
    image.detections.push(detection);
    detections.push(detection);
    return detection;
  }

  /** Map features near images of `candidates`, each seen by 1-3 consecutive images of a sequence. */
  function addMapFeatures(candidates: Image[], count: number, within: BBox): void {
    const imageById = new Map(images.map((image) => [image.id, image]));
    const runs = new Map(sequences.map((s) => [s.id, s.image_ids]));
    for (let made = 0; made < count;) {
      const anchor = pick(candidates);
      const run = runs.get(anchor.sequence)!;
      const start = run.indexOf(anchor.id);
      const seen = run.slice(start, start + 1 + Math.floor(rand() * 3))
        .map((id) => imageById.get(id)!).filter((image) => image.detections.length < 3);
      if (seen.length === 0) continue;
      const isSign = rand() < 0.7;
      const value = pick(isSign ? SIGN_VALUES : POINT_VALUES);
      const id = numericId();
      const [lon, lat] = anchor.geometry.coordinates;
      mapFeatures.push({
        id, object_value: value, object_type: isSign ? 'trafficsign' : 'point',
        geometry: point(
          q(Math.min(Math.max(lon + between(-3e-5, 3e-5), within[0]), within[2])),
          q(Math.min(Math.max(lat + between(-3e-5, 3e-5), within[1]), within[3]))),
        aligned_direction: round((anchor.computed_compass_angle + 180) % 360, 1),
        first_seen_at: isoSeconds(seen[0].captured_at), last_seen_at: isoSeconds(seen[seen.length - 1].captured_at),
        detections: seen.map((image) => addDetection(image, value, id)),
        accuracy: round(between(0.5, 5), 2), altitude: round(between(1, 4), 2),
      });
      made++;
    }
  }

  // Dense centre: sequences confined to zones sized so that halving meets every case (see top).
  const [W, S, E, N] = AREAS.denseCentre;
  const [midLon, midLat] = [halve(W, E), halve(S, N)];
  const [lonQ1, lonQ3, latQ1, latQ3] = [halve(W, midLon), halve(midLon, E), halve(S, midLat), halve(midLat, N)];
  const denseZones: Array<[BBox, number]> = [
    [[W, latQ3, lonQ1, N], 52], [[lonQ1, latQ3, midLon, N], 20], [[W, midLat, lonQ1, latQ3], 20],
    [[lonQ1, midLat, midLon, latQ3], 20], [[midLon, midLat, E, N], 22], [[W, S, midLon, midLat], 22],
    [[midLon, S, E, midLat], 22],
  ];
  const denseImages = denseZones.flatMap(([zone, count]) =>
    Array.from({ length: count }, () => addSequence(walk(inset(zone, 1e-5), 50, 4e-5))).flat());
  const lonLines = [W, lonQ1, midLon, lonQ3, E];
  const latLines = [S, latQ1, midLat, latQ3, N];
  const snap = (v: number, lines: number[]): number => lines.find((line) => Math.abs(line - v) < 1e-9) ?? v;
  const stops = (from: number, step: number, lines: number[]): number[] =>
    Array.from({ length: 21 }, (_, k) => snap(q(from + k * step), lines));
  for (const lon of lonLines) addSequence(stops(S, 0.0005, latLines).map((lat): Stop => [lon, lat, 0]));
  for (const lat of latLines) addSequence(stops(W, 0.001, lonLines).map((lon): Stop => [lon, lat, 90]));

  const suburbImages = Array.from({ length: 16 }, () => addSequence(walk(inset(AREAS.suburb, 0.005), 50, 1.5e-4))).flat();
  for (let i = 0; i < 50; i++) addSequence(Array.from({ length: 50 }, (): Stop => [HOTSPOT_POINT[0], HOTSPOT_POINT[1], rand() * 360]));
  const fiji: BBox = [179.955, -16.99, 180.045, -16.91];
  addSequence(walk([fiji[0], fiji[1], 179.995, fiji[3]], 40, 2e-4));
  addSequence(walk([180.005, fiji[1], fiji[2], fiji[3]], 40, 2e-4));
  addSequence(walk(fiji, 40, 2e-3, [179.962, -16.95, 90]));

  addMapFeatures(denseImages, 2400, inset(AREAS.denseCentre, 1e-5));
  addMapFeatures(suburbImages, 150, inset(AREAS.suburb, 1e-3));
  const allValues = [...SIGN_VALUES, ...POINT_VALUES, ...SEGMENT_VALUES];
  for (const image of images) {
    const target = Math.floor(rand() * 4);
    while (image.detections.length < target) addDetection(image, pick(allValues));
  }
  return { users, sequences, images, detections, mapFeatures, organizations };
}

/** Side of the buckets that index images by position, in degrees. */
const BUCKET = 0.01;
const bucketKey = (x: number, y: number): string => `${x}:${y}`;

export class World {
  readonly users: User[];
  readonly organizations: string[];
  readonly sequences: Sequence[];
  /** Images in generation order (sequence by sequence, each in capture order). */
  readonly images: Image[];
  readonly detections: Detection[];
  readonly mapFeatures: MapFeature[];
  private readonly byId = {
    image: new Map<string, Image>(), detection: new Map<string, Detection>(), mapFeature: new Map<string, MapFeature>(),
    sequence: new Map<string, Sequence>(),
  };
  private readonly cache = new Map<string, string>();

  /** Images by bucket of the index grid (BUCKET degrees), for area searches and tiles. */
  private readonly buckets = new Map<string, Image[]>();

  /** `extra`: more images and their sequences (the bench's density worlds: see ./worlds). */
  constructor(extra?: { images: Image[]; sequences: Sequence[] }) {
    ({ users: this.users, organizations: this.organizations, sequences: this.sequences, images: this.images,
      detections: this.detections, mapFeatures: this.mapFeatures } = generate());
    if (extra) {
      for (const image of extra.images) this.images.push(image);
      for (const sequence of extra.sequences) this.sequences.push(sequence);
    }
    for (const image of this.images) {
      const key = bucketKey(Math.floor(image.geometry.coordinates[0] / BUCKET), Math.floor(image.geometry.coordinates[1] / BUCKET));
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(image);
      else this.buckets.set(key, [image]);
    }
    for (const image of this.images) this.byId.image.set(image.id, image);
    for (const detection of this.detections) this.byId.detection.set(detection.id, detection);
    for (const feature of this.mapFeatures) this.byId.mapFeature.set(feature.id, feature);
    for (const sequence of this.sequences) this.byId.sequence.set(sequence.id, sequence);
  }

  /** Grows with each change of the world (what was served before, tiles say, is made again). */
  version = 0;

  /**
   * Changes the world between harvests, as Mapillary's data changes from night to night: images
   * and map features added (copies of existing ones, moved, under new ids) or removed. Returns the
   * ids added.
   */
  change(what: { removeImages?: string[]; addImages?: { like: Image; id: string; at?: [number, number] }[]; removeMapFeatures?: string[]; addMapFeatures?: { like: MapFeature; id: string; at?: [number, number] }[] }): void {
    const gone = new Set(what.removeImages ?? []);
    if (gone.size > 0) {
      for (const id of gone) this.byId.image.delete(id);
      keepOnly(this.images, (image) => !gone.has(image.id));
      for (const bucket of this.buckets.values()) keepOnly(bucket, (image) => !gone.has(image.id));
    }
    for (const { like, id, at } of what.addImages ?? []) {
      const geometry: Point = { type: 'Point', coordinates: at ?? [...like.geometry.coordinates] };
      const image: Image = { ...like, id, geometry, computed_geometry: geometry, detections: [] };
      this.images.push(image);
      this.byId.image.set(id, image);
      const key = bucketKey(Math.floor(geometry.coordinates[0] / BUCKET), Math.floor(geometry.coordinates[1] / BUCKET));
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(image);
      else this.buckets.set(key, [image]);
    }
    const goneFeatures = new Set(what.removeMapFeatures ?? []);
    if (goneFeatures.size > 0) {
      for (const id of goneFeatures) this.byId.mapFeature.delete(id);
      keepOnly(this.mapFeatures, (f) => !goneFeatures.has(f.id));
    }
    for (const { like, id, at } of what.addMapFeatures ?? []) {
      const feature: MapFeature = { ...like, id, geometry: { type: 'Point', coordinates: at ?? [...like.geometry.coordinates] } };
      this.mapFeatures.push(feature);
      this.byId.mapFeature.set(id, feature);
    }
    this.version += 1;
  }

  image(id: string): Image | undefined { return this.byId.image.get(id); }
  detection(id: string): Detection | undefined { return this.byId.detection.get(id); }
  mapFeature(id: string): MapFeature | undefined { return this.byId.mapFeature.get(id); }
  sequence(id: string): Sequence | undefined { return this.byId.sequence.get(id); }
  user(username: string): User | undefined { return this.users.find((u) => u.username === username); }

  /**
   * Images whose `geometry` lies in the closed box (antimeridian-crossing boxes allowed): bucket
   * by bucket, each in generation order.
   */
  imagesIn(bbox: BBox): Image[] {
    return this.matching(bbox, () => true, Infinity);
  }

  /** Images in the box that pass `keep`, stopping once there are more than `most` (a server that stops counting). */
  matching(bbox: BBox, keep: (image: Image) => boolean, most: number): Image[] {
    const [w, s, e, n] = bbox;
    const [x0, x1, y0, y1] = [Math.floor(w / BUCKET), Math.floor(e / BUCKET), Math.floor(s / BUCKET), Math.floor(n / BUCKET)];
    const found: Image[] = [];
    // Boxes across the antimeridian, or wide ones, are searched image by image.
    const lists = w > e || (x1 - x0 + 1) * (y1 - y0 + 1) > 400 ? [this.images] : [];
    if (lists.length === 0) {
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const bucket = this.buckets.get(bucketKey(x, y));
          if (bucket) lists.push(bucket);
        }
      }
    }
    for (const list of lists) {
      for (const image of list) {
        const [lon, lat] = image.geometry.coordinates;
        if (inBBox(lon, lat, bbox) && keep(image)) {
          found.push(image);
          if (found.length > most) return found;
        }
      }
    }
    return found;
  }
  mapFeaturesIn(bbox: BBox): MapFeature[] { return this.mapFeatures.filter((f) => inBBox(...f.geometry.coordinates, bbox)); }
  /** Images that saw a map feature, without repeats. */
  imagesOf(feature: MapFeature): Image[] {
    return [...new Set(feature.detections.map((d) => d.image_id))].map((id) => this.image(id)!);
  }

  /** The v3 key of an image, detection, map feature, user or organization id (a sequence keeps its id). */
  v3Key(id: string): string {
    if (this.byId.sequence.has(id)) return id;
    let key = this.cache.get(`key:${id}`);
    if (key === undefined) this.cache.set(`key:${id}`, (key = legacyKey(id)));
    return key;
  }

  /** The base64 MVT of a detection, as the v4 API serves it (encoded once, then cached). */
  detectionGeometry(detection: Detection): string {
    let geometry = this.cache.get(`mvt:${detection.id}`);
    if (geometry === undefined) this.cache.set(`mvt:${detection.id}`, (geometry = encodeDetectionGeometry([detection.polygon])));
    return geometry;
  }
}

/** Keeps the entries that pass, in place. */
function keepOnly<T>(list: T[], keep: (entry: T) => boolean): void {
  let kept = 0;
  for (const entry of list) if (keep(entry)) list[kept++] = entry;
  list.length = kept;
}

export const world = new World();
