/**
 * Requests of area harvests against the floor: on the sandbox with its density worlds (a uniform
 * density sweep and a city), each harvest is checked against the sandbox's ground truth (every
 * image once) and its search and tile requests are counted from the sandbox's own log.
 *
 * The floor of a harvest is what no client can beat: one request per 2000 items, and one per
 * cell of the area limit: max(ceil(items / 2000), ceil(area / 0.01 square degrees)).
 */
import { MapillaryClient } from '../src';
import { type BBox, SANDBOX_CREDENTIALS, World, AREAS } from '../sandbox/data';
import { CITY, SWEEP, densityWorlds } from '../sandbox/worlds';
import { startSandbox, type Sandbox } from '../sandbox/server';

export interface CellCase { name: string; bbox: BBox }

export const CELL_CASES: CellCase[] = [
  ...SWEEP.densities.map((density, i) => ({ name: `sweep ${density}/sq`, bbox: SWEEP.box(i) })),
  { name: 'city (whole)', bbox: CITY.area },
  { name: 'city core', bbox: [16.34, 48.19, 16.4, 48.23] },
  { name: 'city spot', bbox: [16.368, 48.206, 16.376, 48.211] },
  { name: 'sandbox dense centre', bbox: AREAS.denseCentre },
  { name: 'sandbox suburb', bbox: AREAS.suburb },
];

export interface CellResult { name: string; items: number; expected: number; exact: boolean; floor: number; search: number; tiles: number; seconds: number }

export async function densitySandbox(): Promise<{ sandbox: Sandbox; world: World }> {
  const world = new World(densityWorlds());
  return { sandbox: await startSandbox({ world }), world };
}

export async function harvestCase(sandbox: Sandbox, world: World, c: CellCase, options: { tiles?: boolean } = {}): Promise<CellResult> {
  const client = new MapillaryClient({
    clientToken: SANDBOX_CREDENTIALS.clientToken, requestsPerMinute: 0,
    baseUrls: { graph: sandbox.graphUrl, tiles: sandbox.tilesUrl },
  });
  sandbox.resetLog();
  const started = process.hrtime.bigint();
  const seen = new Set<string>();
  let items = 0;
  const search: Record<string, unknown> = { bbox: c.bbox, fields: ['id'] };
  if (options.tiles !== undefined) search.coverageTiles = options.tiles;
  for await (const page of client.searchImages(search as never, { maxRequests: 100_000 })) {
    for (const item of page.items) {
      items++;
      seen.add(item.id);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.close();
  const truth = world.imagesIn(c.bbox);
  const exact = items === truth.length && seen.size === truth.length && truth.every((image) => seen.has(image.id));
  const [w, s, e, n] = c.bbox;
  const floor = Math.max(Math.ceil(truth.length / 2000), Math.ceil(((e - w) * (n - s)) / 0.01));
  const searchRequests = sandbox.requests.filter((r) => r.url.startsWith('/graph/images')).length;
  const tiles = sandbox.requests.filter((r) => r.url.startsWith('/tiles/')).length;
  return { name: c.name, items, expected: truth.length, exact, floor, search: searchRequests, tiles, seconds };
}

/**
 * Requests of the same harvests before issue 9 (cells split in four, level after level), as
 * measured on this machine at the commit before it (abc21b8) with this same bench.
 */
export const BEFORE: Record<string, number> = {
  'sweep 7.5/sq': 5, 'sweep 15/sq': 5, 'sweep 30/sq': 21, 'sweep 45/sq': 21, 'sweep 60/sq': 21, 'sweep 90/sq': 85,
  'city (whole)': 134, 'city core': 45, 'city spot': 21, 'sandbox dense centre': 13, 'sandbox suburb': 12,
};

export const CELL_HEADER = '| area | images | floor | with tiles (default): searches + tiles | tiles off | before (quarters) |\n|---|---|---|---|---|---|';

export function cellRow(r: CellResult, off: CellResult): string {
  const total = r.search + r.tiles;
  const ratio = (n: number) => `${(n / r.floor).toFixed(2)}×`;
  const before = BEFORE[r.name];
  return `| ${r.name} | ${r.expected.toLocaleString('en-US')} | ${r.floor} | ${r.search} + ${r.tiles} = **${total}** (${ratio(total)}) | ${off.search + off.tiles} (${ratio(off.search + off.tiles)}) | ${before === undefined ? '–' : `${before} (${ratio(before)})`} |`;
}

async function main(): Promise<void> {
  const { sandbox, world } = await densitySandbox();
  try {
    console.log(CELL_HEADER);
    for (const c of CELL_CASES) {
      const on = await harvestCase(sandbox, world, c);
      const off = await harvestCase(sandbox, world, c, { tiles: false });
      console.log(cellRow(on, off));
      if (!on.exact || !off.exact) {
        console.error(`${c.name}: NOT EXACT (items lost or repeated)`);
        process.exitCode = 1;
      }
    }
  } finally {
    await sandbox.close();
  }
}

if (process.argv[1]?.endsWith('cells.ts')) void main();
