import assert from 'node:assert/strict';
import type { BBox } from '../../src/geo/bbox';
import { tileAt, tileBox, tileCount, tilePoint, tilesCovering } from '../../src/geo/tiles';
import { cutCell } from '../../src/paging/cut';
import { ownsPoint } from '../../src/geo/cells';
import { mulberry32 } from '../../sandbox/data';

const area = (b: BBox) => (b[2] - b[0]) * (b[3] - b[1]);

describe('cutting a cell into parts', () => {
  const cell: BBox = [13.4, 52.51, 13.42, 52.52];

  it('tiles the cell exactly: as many parts as asked, no overlap, every point owned by one part', () => {
    for (const parts of [2, 3, 4, 5, 7, 16, 22]) {
      const cut = cutCell(cell, parts, 1e-4);
      assert.equal(cut.length, parts);
      assert.ok(Math.abs(cut.reduce((sum, p) => sum + area(p.box), 0) - area(cell)) < 1e-12);
      const rand = mulberry32(parts);
      for (let i = 0; i < 500; i++) {
        // Points on the cuts too: take some coordinates from the parts' own edges.
        const edge = cut[i % parts]!.box;
        const lon = i % 3 === 0 ? edge[0] : cell[0] + rand() * (cell[2] - cell[0]);
        const lat = i % 5 === 0 ? edge[3] : cell[1] + rand() * (cell[3] - cell[1]);
        assert.equal(cut.filter((p) => ownsPoint(p.box, cell, lon, lat)).length, 1, `${lon},${lat} in ${parts} parts`);
      }
    }
  });

  it('places the cuts where the known positions split evenly', () => {
    // 900 positions in the western tenth, 100 spread over the rest.
    const rand = mulberry32(7);
    const points: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const west = i < 900;
      points.push(cell[0] + (west ? 0.1 : 0.1 + 0.9 * rand()) * (cell[2] - cell[0]) * (west ? rand() : 1), cell[1] + rand() * (cell[3] - cell[1]));
    }
    const cut = cutCell(cell, 4, 1e-6, points);
    assert.equal(cut.length, 4);
    for (const part of cut) assert.ok(part.known >= 200 && part.known <= 300, `${part.known} positions in ${part.box}`);
    assert.equal(cut.reduce((sum, p) => sum + p.known, 0), 1000);
  });

  it('never makes a side under the smallest, and gives the cell back whole when it cannot be cut', () => {
    for (const part of cutCell(cell, 64, 0.004)) assert.ok(Math.min(part.box[2] - part.box[0], part.box[3] - part.box[1]) >= 0.004 - 1e-12);
    assert.deepEqual(cutCell([0, 0, 0.0001, 0.0001], 4, 0.0001).map((p) => p.box), [[0, 0, 0.0001, 0.0001]]);
  });
});

describe('web mercator tiles', () => {
  it('finds the tile of a point, and the tile holds it', () => {
    for (const [lon, lat] of [[13.41, 52.515], [-122.4, 37.77], [179.99, -16.9], [0, 0]] as const) {
      const [x, y] = tileAt(lon, lat, 14);
      const box = tileBox(x, y, 14);
      assert.ok(lon >= box[0] && lon < box[2] && lat > box[1] && lat <= box[3], `${lon},${lat} in ${box}`);
    }
    // Mapillary's documented example tile is Berlin's.
    assert.deepEqual(tileAt(13.3777, 52.5163, 14), [8800, 5373]);
  });

  it('lists the tiles that cover a box, as many as it counts, and places tile points back', () => {
    const box: BBox = [13.4, 52.51, 13.46, 52.54];
    const tiles = tilesCovering(box, 14);
    assert.equal(tiles.length, tileCount(box, 14));
    assert.ok(tiles.length >= 6 && tiles.length <= 12, String(tiles.length));
    const [x, y] = tileAt(13.41, 52.515, 14);
    const [lon, lat] = tilePoint(x, y, 14, 0, 0, 4096);
    const corner = tileBox(x, y, 14);
    assert.ok(Math.abs(lon - corner[0]) < 1e-9 && Math.abs(lat - corner[3]) < 1e-9);
  });
});
