import assert from 'node:assert/strict';
import { bboxArea, type BBox } from '../../src/geo/bbox';
import { cellSide, gridCells, ownsPoint, splitInFour } from '../../src/geo/cells';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Compensated (Neumaier) sum, so a large tiling is not blamed for the rounding of the sum. */
function sum(values: number[]): number {
  let total = 0;
  let compensation = 0;
  for (const v of values) {
    const t = total + v;
    compensation += Math.abs(total) >= Math.abs(v) ? total - t + v : v - t + total;
    total = t;
  }
  return total + compensation;
}

function assertTiles(parent: BBox, cells: BBox[]): void {
  const total = sum(cells.map(bboxArea));
  assert.ok(Math.abs(total - bboxArea(parent)) <= 1e-12 * bboxArea(parent), `areas sum to ${total}, box is ${bboxArea(parent)}`);
  for (const c of cells) {
    assert.ok(c[0] < c[2] && c[1] < c[3], `empty cell ${c}`);
    assert.ok(c[0] >= parent[0] && c[2] <= parent[2] && c[1] >= parent[1] && c[3] <= parent[3], `cell ${c} outside ${parent}`);
  }
}

describe('gridCells', () => {
  const boxes: BBox[] = [
    [2.3, 48.8, 2.4, 48.9],
    [2.25, 48.81, 2.42, 48.91],
    [-0.3, 51.3, 0.2, 51.7],
    [13.0883, 52.3382, 13.7611, 52.6755],
    [0, 0, 0.05, 0.0001],
    [10, 0, 10.0001, 3],
    [-40, -10, 40, 10],
    [0, 0, 0.001, 0.001],
  ];
  const MAX = 0.01;

  for (const box of boxes) {
    it(`tiles ${box} with cells under ${MAX} square degrees`, () => {
      const grid = gridCells(box, MAX);
      const cells = [...grid.cells()];
      assert.equal(cells.length, grid.count);
      for (const c of cells) assert.ok(bboxArea(c) < MAX, `cell ${c} has area ${bboxArea(c)}`);
      assertTiles(box, cells);

      const lons = [...new Set(cells.flatMap((c) => [c[0], c[2]]))].sort((a, b) => a - b);
      const lats = [...new Set(cells.flatMap((c) => [c[1], c[3]]))].sort((a, b) => a - b);
      // Shared edges are bit-identical: the grid has exactly cols+1 x rows+1 distinct edge values.
      assert.equal((lons.length - 1) * (lats.length - 1), grid.count);
      assert.deepEqual([lons[0], lats[0], lons.at(-1), lats.at(-1)], [...box]);
      for (const c of cells) {
        assert.equal(lons[lons.indexOf(c[0]) + 1], c[2]);
        assert.equal(lats[lats.indexOf(c[1]) + 1], c[3]);
      }
    });
  }

  it('keeps cells strictly under the limit for random boxes', () => {
    const rnd = random(7);
    for (let i = 0; i < 300; i++) {
      const w = rnd() * 0.5 + 1e-9;
      const h = rnd() * 0.5 + 1e-9;
      const x = rnd() * 100 - 50;
      const y = rnd() * 60 - 30;
      const box: BBox = [x, y, x + w, y + h];
      const grid = gridCells(box, MAX);
      let count = 0;
      for (const c of grid.cells()) {
        count++;
        assert.ok(bboxArea(c) < MAX, `cell ${c} of ${box} has area ${bboxArea(c)}`);
      }
      assert.equal(count, grid.count);
    }
  });

  it('makes few cells: one for a small box, close to square for a large one, few for a thin one', () => {
    assert.equal(gridCells([0, 0, 0.001, 0.001], MAX).count, 1);
    const square = gridCells([0, 0, 1, 1], MAX);
    assert.equal(square.count, 110);
    const first = square.cells().next().value as BBox;
    const aspect = (first[2] - first[0]) / (first[3] - first[1]);
    assert.ok(Math.max(aspect, 1 / aspect) < 1.25, `aspect ${aspect}`);
    assert.equal(gridCells([0, 0, 0.5, 0.001], MAX).count, 1);
    assert.equal(gridCells([0, 0, 0.001, 0.5], MAX).count, 1);
  });

  it('generates cells lazily', () => {
    const world = gridCells([-180, -90, 180, 90], 1e-6);
    assert.ok(world.count > 6e10);
    const it = world.cells();
    const first = it.next().value as BBox;
    const second = it.next().value as BBox;
    assert.deepEqual([first[0], first[1]], [-180, -90]);
    assert.equal(second[0], first[2]);
  });

  it('rejects a limit that is not a positive number', () => {
    assert.throws(() => gridCells([0, 0, 1, 1], 0), RangeError);
    assert.throws(() => gridCells([0, 0, 1, 1], Number.NaN), RangeError);
  });
});

describe('splitInFour', () => {
  it('tiles the parent with shared edges', () => {
    const parent: BBox = [2.25, 48.81, 2.42, 48.91];
    const [sw, se, nw, ne] = splitInFour(parent);
    assertTiles(parent, [sw, se, nw, ne]);
    assert.equal(sw[2], se[0]);
    assert.equal(nw[2], ne[0]);
    assert.equal(sw[2], nw[2]);
    assert.equal(sw[3], nw[1]);
    assert.equal(se[3], ne[1]);
    assert.equal(sw[3], se[3]);
    assert.deepEqual([sw[0], sw[1], ne[2], ne[3]], [...parent]);
  });
});

describe('cellSide', () => {
  it('is the shorter side', () => {
    assert.equal(cellSide([0, 0, 2, 0.5]), 0.5);
    assert.equal(cellSide([0, 0, 0.25, 3]), 0.25);
  });
});

describe('ownsPoint', () => {
  const area: BBox = [2.25, 48.81, 2.42, 48.91];

  /** A grid tiling of area where some cells were split in four, and one quarter again. */
  function leaves(): BBox[] {
    const out: BBox[] = [];
    let i = 0;
    for (const cell of gridCells(area, 0.003).cells()) {
      if (i++ % 3 !== 0) { out.push(cell); continue; }
      const [sw, se, nw, ne] = splitInFour(cell);
      out.push(se, nw, ...splitInFour(sw), ...(i % 2 === 0 ? splitInFour(ne) : [ne]));
    }
    return out;
  }
  const cells = leaves();

  function owners(lon: number, lat: number): number {
    return cells.filter((c) => ownsPoint(c, area, lon, lat)).length;
  }

  it('uses a real tiling', () => {
    assert.ok(cells.length > 20);
    assertTiles(area, cells);
  });

  it('gives random points exactly one owner', () => {
    const rnd = random(42);
    for (let i = 0; i < 2000; i++) {
      const lon = area[0] + rnd() * (area[2] - area[0]);
      const lat = area[1] + rnd() * (area[3] - area[1]);
      assert.equal(owners(lon, lat), 1, `${lon},${lat}`);
    }
  });

  it('gives points on shared edges and corners exactly one owner', () => {
    for (const c of cells) {
      const midLon = (c[0] + c[2]) / 2;
      const midLat = (c[1] + c[3]) / 2;
      const points: Array<[number, number]> = [
        [c[0], c[1]], [c[2], c[1]], [c[0], c[3]], [c[2], c[3]],
        [c[0], midLat], [c[2], midLat], [midLon, c[1]], [midLon, c[3]],
      ];
      for (const [lon, lat] of points) assert.equal(owners(lon, lat), 1, `${lon},${lat} (corner/edge of ${c})`);
    }
  });

  it('gives points on the outer edges and corners exactly one owner, the cell on that edge', () => {
    for (const [lon, lat] of [[area[2], area[3]], [area[0], area[1]], [area[2], area[1]], [area[0], area[3]], [area[2], 48.85], [2.3, area[3]]]) {
      assert.equal(owners(lon, lat), 1, `${lon},${lat}`);
    }
    const ne = cells.find((c) => c[2] === area[2] && c[3] === area[3]) as BBox;
    assert.ok(ownsPoint(ne, area, area[2], area[3]));
  });

  it('gives points outside the area exactly one owner (clamped into it)', () => {
    const rnd = random(3);
    const outside: Array<[number, number]> = [[0, 0], [180, 90], [-180, -90], [2.3, 60], [2.5, 48.85], [2.2, 48.85], [2.3, 48.8]];
    for (let i = 0; i < 500; i++) outside.push([area[0] - 1 + rnd() * 2, area[1] - 1 + rnd() * 2]);
    for (const [lon, lat] of outside) assert.equal(owners(lon, lat), 1, `${lon},${lat}`);
    const sw = cells.find((c) => c[0] === area[0] && c[1] === area[1]) as BBox;
    assert.ok(ownsPoint(sw, area, -170, -80));
  });

  it('does not own points of a neighbouring cell', () => {
    const cell: BBox = [0, 0, 1, 1];
    const wide: BBox = [0, 0, 2, 2];
    assert.ok(ownsPoint(cell, wide, 0, 0));
    assert.ok(!ownsPoint(cell, wide, 1, 0.5));
    assert.ok(!ownsPoint(cell, wide, 0.5, 1));
    assert.ok(ownsPoint(cell, cell, 1, 1));
  });
});
