/**
 * Density worlds for measuring what a harvest costs (npm run bench, and a test of the density
 * cutting): images only, no detections or map features, added to the sandbox world with
 * `new World(densityWorlds())`. Deterministic (fixed seeds); ids are 16 digits, so they never
 * meet the 15-digit ids of the base world.
 *
 * - SWEEP: six boxes of 0.04 x 0.04 degrees at latitude 48.1, each of uniform density: 7.5,
 *   15, 30, 45, 60 and 90 images per 0.002-degree square (3000 to 36000 images a box).
 * - CITY: a city of 0.3 x 0.18 degrees like a real one: streets driven densely near the centre
 *   and sparsely at the edges, a river and a park with no images at all, and three very dense
 *   spots (a square photographed over and over: 8000, 4500 and 3000 images within about 50 m).
 */
import { type BBox, type Creator, type Image, mulberry32, type Sequence } from './data';

export const SWEEP = {
  /** Images per 0.002-degree square in each box, west to east. */
  densities: [7.5, 15, 30, 45, 60, 90],
  /** The box of density i. */
  box: (i: number): BBox => [11.5 + 0.06 * i, 48.1, 11.54 + 0.06 * i, 48.14],
} as const;

export const CITY = {
  area: [16.22, 48.12, 16.52, 48.3] as BBox,
  centre: [16.37, 48.21] as const,
  /** No images: a river across the city and a park. */
  gaps: [[16.405, 48.12, 16.412, 48.3], [16.25, 48.26, 16.3, 48.29]] as BBox[],
  /** [lon, lat, images]: squares photographed over and over. */
  spots: [[16.3712, 48.2083, 8000], [16.3021, 48.2214, 4500], [16.4517, 48.1622, 3000]] as const,
};

const q = (v: number): number => Math.round(v * 1e6) / 1e6;
const inside = (lon: number, lat: number, [w, s, e, n]: BBox): boolean => lon >= w && lon <= e && lat >= s && lat <= n;

/** The images and sequences of the sweep (all boxes, or those listed) and the city (unless left out). */
export function densityWorlds(only: { sweep?: number[]; city?: boolean } = {}): { images: Image[]; sequences: Sequence[] } {
  const rand = mulberry32(48_1400);
  const between = (min: number, max: number): number => min + rand() * (max - min);
  const images: Image[] = [];
  const sequences: Sequence[] = [];
  let nextId = 1;
  const id = (): string => String(1e15 + nextId++);
  const creators: Creator[] = ['sweep-surveyor', 'city-cam-1', 'city-cam-2', 'city-cam-3'].map((username, i) => ({ username, id: String(2e15 + i) }));
  let time = Date.UTC(2019, 0, 1);

  /** One sequence of images at `stops` ([lon, lat, heading]). */
  function sequence(stops: [number, number, number][], creator: Creator): void {
    const seq: Sequence = { id: `dw${String(sequences.length).padStart(20, '0')}`, creator, image_ids: [] };
    time += Math.floor(between(1, 40)) * 3_600_000;
    for (const [lon, lat, heading] of stops) {
      time += 2000;
      const geometry = { type: 'Point' as const, coordinates: [q(lon), q(lat)] as [number, number] };
      const image: Image = {
        id: id(), altitude: 40, camera_type: 'perspective', captured_at: time, compass_angle: Math.round(heading * 100) / 100,
        computed_altitude: 40, computed_compass_angle: Math.round(heading * 100) / 100, computed_geometry: geometry, creator,
        exif_orientation: 1, geometry, height: 3000, width: 4000, is_pano: false, make: 'GoPro', model: 'HERO8 Black',
        quality_score: 0.8, sequence: seq.id, detections: [],
      };
      seq.image_ids.push(image.id);
      images.push(image);
    }
    sequences.push(seq);
  }

  // The sweep: uniform random positions, in sequences of 50.
  SWEEP.densities.forEach((density, i) => {
    if (only.sweep && !only.sweep.includes(i)) return;
    const [w, s, e, n] = SWEEP.box(i);
    const count = Math.round(density * ((e - w) / 0.002) * ((n - s) / 0.002));
    for (let made = 0; made < count; made += 50) {
      sequence(Array.from({ length: Math.min(50, count - made) }, () => [between(w, e), between(s, n), between(0, 360)]), creators[0]!);
    }
  });

  if (only.city === false) return { images, sequences };

  // The city: drives of 100 images 15 m apart, starting near the centre more often than at the
  // edges (so density falls off with distance), kept inside the city and out of its gaps.
  const [W, S, E, N] = CITY.area;
  const [cx, cy] = CITY.centre;
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  for (let d = 0; d < 420; d++) {
    const far = rand() < 0.3;
    let lon = far ? between(W, E) : cx + gaussian() * 0.025;
    let lat = far ? between(S, N) : cy + gaussian() * 0.015;
    let heading = between(0, 360);
    const stops: [number, number, number][] = [];
    for (let k = 0; k < 100; k++) {
      heading = (heading + (rand() < 0.1 ? 90 * Math.sign(rand() - 0.5) : between(-3, 3)) + 360) % 360;
      lon += (0.00015 * Math.sin((heading * Math.PI) / 180)) / Math.cos((lat * Math.PI) / 180);
      lat += 0.00015 * Math.cos((heading * Math.PI) / 180);
      if (!inside(lon, lat, CITY.area) || CITY.gaps.some((gap) => inside(lon, lat, gap))) break;
      stops.push([lon, lat, heading]);
    }
    if (stops.length > 0) sequence(stops, creators[1 + (d % 3)]!);
  }
  for (const [lon, lat, count] of CITY.spots) {
    for (let made = 0; made < count; made += 50) {
      sequence(Array.from({ length: Math.min(50, count - made) }, () => [lon + between(-4e-4, 4e-4), lat + between(-3e-4, 3e-4), between(0, 360)]), creators[1]!);
    }
  }
  return { images, sequences };
}
