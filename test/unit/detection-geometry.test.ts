import assert from 'node:assert/strict';
import { PbfWriter } from 'pbf';
import { decodeDetectionGeometry } from '../../src/geo/detection-geometry';
import { MalformedResponseError } from '../../src/errors';
import { encodeDetectionGeometry, encodeDetectionGeometryFromNormalized } from '../../sandbox/mvt';

/** A geometry recorded from the Mapillary v4 API (GET /{image_id}/detections?fields=geometry). */
const RECORDED = 'GjgKBm1weS1vchIYEgIAABgDIhAJvjTKIxrIAwAAvALHAwAPGgR0eXBlIgkKB3BvbHlnb24ogCB4AQ==';

/** Standard shoelace area; positive for a ring that looks clockwise with y pointing down. */
function area(ring: number[][]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return sum / 2;
}

const zz = (n: number) => (n << 1) ^ (n >> 31);
/** Raw MVT geometry commands for closed rings (absolute tile coordinates, no orientation fix-up). */
function commands(rings: number[][][]): number[] {
  const out: number[] = [];
  let [x, y] = [0, 0];
  for (const ring of rings) {
    ring.forEach(([px, py], i) => {
      if (i === 0) out.push(9);
      if (i === 1) out.push(((ring.length - 1) << 3) | 2);
      out.push(zz(px - x), zz(py - y));
      [x, y] = [px, py];
    });
    out.push(15);
  }
  return out;
}

/** A hand-built tile: layers of features given as [type, geometry commands]. */
function tile(layers: Array<{ name: string; extent?: number; features: Array<[number, number[]]> }>): string {
  const pbf = new PbfWriter();
  for (const layer of layers) {
    pbf.writeMessage(3, (_: null, l: PbfWriter) => {
      l.writeVarintField(15, 2);
      l.writeStringField(1, layer.name);
      for (const [type, geometry] of layer.features) {
        l.writeMessage(2, (__: null, f: PbfWriter) => {
          f.writeVarintField(3, type);
          f.writePackedVarint(4, geometry);
        }, null);
      }
      if (layer.extent !== undefined) l.writeVarintField(5, layer.extent);
    }, null);
  }
  return Buffer.from(pbf.finish()).toString('base64');
}

const square = (x: number, y: number, s: number) => [[x, y], [x + s, y], [x + s, y + s], [x, y + s]];

async function malformed(input: unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(decodeDetectionGeometry(input as string), (err: unknown) => {
    assert.ok(err instanceof MalformedResponseError, String(err));
    assert.equal(err.code, 'MAPILLARY_MALFORMED_RESPONSE');
    assert.match(err.message, /^Detection geometry /);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('decodeDetectionGeometry', () => {
  it('decodes the recorded API value into a closed polygon inside the image', async () => {
    const g = await decodeDetectionGeometry(RECORDED, { width: 2048, height: 1536 });
    assert.equal(g.type, 'Polygon');
    assert.equal(g.extent, 4096);
    const [ring] = g.normalized as number[][][];
    assert.equal((g.normalized as number[][][]).length, 1);
    assert.equal(ring.length, 5);
    assert.deepEqual(ring[0], ring[4]);
    for (const [x, y] of ring) assert.ok(x >= 0 && x <= 1 && y >= 0 && y <= 1, `${x},${y}`);
    assert.deepEqual(ring.map(([x, y]) => [x * 4096, y * 4096]), [[3359, 2277], [3587, 2277], [3587, 2435], [3359, 2435], [3359, 2277]]);
    assert.ok(area(ring) > 0, 'exterior ring is clockwise in image coordinates');
    assert.deepEqual((g.pixels as number[][][])[0][2], [3587 / 4096 * 2048, 2435 / 4096 * 1536]);
  });

  it('agrees with the test encoder on the recorded polygon', async () => {
    const ours = await decodeDetectionGeometry(encodeDetectionGeometry([[[3359, 2277], [3587, 2277], [3587, 2435], [3359, 2435]]]));
    assert.deepEqual(ours, await decodeDetectionGeometry(RECORDED));
  });

  it('round-trips rings, fixing winding, in normalized and pixel coordinates', async () => {
    const counterClockwise = [[100, 400], [300, 400], [300, 200], [100, 200]] as Array<[number, number]>;
    const g = await decodeDetectionGeometry(encodeDetectionGeometry([counterClockwise]), { width: 4096, height: 2048 });
    const expected = [[100, 200], [300, 200], [300, 400], [100, 400], [100, 200]];
    assert.deepEqual(g.normalized, [expected.map(([x, y]) => [x / 4096, y / 4096])]);
    assert.deepEqual(g.pixels, [expected.map(([x, y]) => [x, y / 2])]);
  });

  it('keeps holes in the polygon', async () => {
    const g = await decodeDetectionGeometry(encodeDetectionGeometry([square(0, 0, 4096) as Array<[number, number]>, square(1000, 1000, 500) as Array<[number, number]>]));
    assert.equal(g.type, 'Polygon');
    const [outer, hole] = g.normalized as number[][][];
    assert.deepEqual([outer.length, hole.length], [5, 5]);
    assert.equal(area(outer), 1);
    assert.equal(area(hole), -((500 / 4096) ** 2));
  });

  it('round-trips normalized rings within one tile unit, with the layer extent', async () => {
    const ring: Array<[number, number]> = [[0.1234, 0.2], [0.9, 0.25], [0.5, 0.777]];
    for (const extent of [4096, 256]) {
      const g = await decodeDetectionGeometry(encodeDetectionGeometryFromNormalized([ring], extent));
      assert.equal(g.extent, extent);
      const decoded = (g.normalized as number[][][])[0];
      assert.equal(decoded.length, 4);
      for (const [x, y] of ring) {
        assert.ok(decoded.some(([dx, dy]) => Math.abs(dx - x) <= 0.5 / extent && Math.abs(dy - y) <= 0.5 / extent), `${x},${y} at extent ${extent}`);
      }
    }
  });

  it('gives pixels only with a positive width and height', async () => {
    const value = encodeDetectionGeometry([square(0, 0, 10) as Array<[number, number]>]);
    assert.ok(!('pixels' in (await decodeDetectionGeometry(value))));
    assert.ok(!('pixels' in (await decodeDetectionGeometry(value, { width: 100 }))));
    assert.ok(!('pixels' in (await decodeDetectionGeometry(value, { width: 0, height: 100 }))));
    assert.ok('pixels' in (await decodeDetectionGeometry(value, { width: 1, height: 1 })));
  });

  it('decodes two exterior rings as a MultiPolygon', async () => {
    const g = await decodeDetectionGeometry(tile([{ name: 'mpy-or', extent: 100, features: [[3, commands([square(0, 0, 10), square(50, 50, 10)])]] }]));
    assert.equal(g.type, 'MultiPolygon');
    const polygons = g.normalized as number[][][][];
    assert.equal(polygons.length, 2);
    assert.deepEqual(polygons[1][0][0], [0.5, 0.5]);
  });

  it('picks the mpy-or layer, or the only layer, and the first polygon feature', async () => {
    const other = { name: 'other', extent: 10, features: [[3, commands([square(0, 0, 1)])]] as Array<[number, number[]]> };
    const mpy = { name: 'mpy-or', extent: 20, features: [[2, commands([square(0, 0, 1)])], [3, commands([square(2, 2, 2)])]] as Array<[number, number[]]> };
    assert.equal((await decodeDetectionGeometry(tile([other, mpy]))).extent, 20);
    assert.deepEqual((await decodeDetectionGeometry(tile([mpy]))).normalized, [[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2], [0.1, 0.1]]]);
    assert.equal((await decodeDetectionGeometry(tile([other]))).extent, 10);
    assert.equal((await decodeDetectionGeometry(tile([{ name: 'x', features: [[3, commands([square(0, 0, 1)])]] }]))).extent, 4096);
  });

  it('closes rings that lack a ClosePath command', async () => {
    const g = await decodeDetectionGeometry(tile([{ name: 'mpy-or', extent: 10, features: [[3, commands([square(0, 0, 5)]).slice(0, -1)]] }]));
    const ring = (g.normalized as number[][][])[0];
    assert.deepEqual(ring[0], ring.at(-1));
    assert.equal(ring.length, 5);
  });

  it('rejects values that are not base64', async () => {
    await malformed('not base64!', /must be a base64-encoded vector tile; got "not base64!"/);
    await malformed('', /got ""/);
    await malformed('A', /got "A"/);
    await malformed(null, /got null/);
    await malformed({ type: 'Polygon' }, /got \{"type":"Polygon"\}/);
  });

  it('rejects bad protobuf, missing layers and missing polygons', async () => {
    await malformed(Buffer.from('hello world, this is not a tile').toString('base64'), /bad protobuf|no "mpy-or" layer/);
    await malformed(Buffer.from([0x1a, 0x20, 0x0a]).toString('base64'), /bad protobuf/);
    await malformed(Buffer.from([0x0a, 0x01, 0x41]).toString('base64'), /has no "mpy-or" layer; found no layers/);
    const line: Array<[number, number[]]> = [[2, commands([square(0, 0, 1)])]];
    await malformed(tile([{ name: 'a', features: line }, { name: 'b', features: line }]), /no "mpy-or" layer; found layers \["a","b"\]/);
    await malformed(tile([{ name: 'mpy-or', features: [] }]), /no "mpy-or" layer; found no layers/);
    await malformed(tile([{ name: 'mpy-or', features: line }]), /has no polygon in layer "mpy-or"/);
    await malformed(tile([{ name: 'mpy-or', features: [[3, [9, 2, 2, 0x1c]]] }]), /cannot be read/);
    await malformed(tile([{ name: 'mpy-or', extent: 0, features: [[3, commands([square(0, 0, 1)])]] }]), /invalid extent 0/);
  });
});
