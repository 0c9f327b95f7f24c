import assert from 'node:assert/strict';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, useClient } from './setup';
import { isMapillaryError, type Checkpoint } from '../../src';

const sorted = (ids: string[]) => [...ids].sort();
/** The dense centre (cut into parts) and the suburb's cells around it: several cells of the grid. */
const AREA = [13.2, 52.4, 13.45, 52.55];

describe('resuming an area harvest from a checkpoint', function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox, { concurrency: 4 });
  const truth = sorted(world.imagesIn(AREA as [number, number, number, number]).map((image) => image.id));

  /** Harvests `pages` pages, then stops; the checkpoint taken after the last of them, through JSON (as a file would keep it). */
  async function stopAfter(pages: number, search: Record<string, unknown> = { bbox: AREA }): Promise<{ ids: string[]; checkpoint: Checkpoint }> {
    const ids: string[] = [];
    let checkpoint: Checkpoint | undefined;
    const stream = client.searchImages(search as never);
    let seen = 0;
    for await (const page of stream) {
      ids.push(...page.items.map((i) => i.id));
      checkpoint = JSON.parse(JSON.stringify(stream.checkpoint())) as Checkpoint;
      if (++seen === pages) break;
    }
    assert.equal(seen, pages, 'the harvest had that many pages');
    return { ids, checkpoint: checkpoint! };
  }

  it('goes on where it stopped, after any page: together exactly the ground truth, no item twice, fewer requests', async () => {
    assert.ok(truth.length > 9000, `${truth.length} images`);
    const full = client.searchImages({ bbox: AREA });
    const before = sandbox.requests.length;
    const all = await full.toArray();
    const fullRequests = sandbox.requests.length - before;
    assert.deepEqual(sorted(all.map((i) => i.id)), truth);
    const pages = full.stats.pages;
    assert.ok(pages >= 8, `${pages} pages`);
    for (const stop of [1, 2, Math.floor(pages / 2), pages - 1]) {
      const first = await stopAfter(stop);
      assert.equal(first.checkpoint.done.pages, stop);
      assert.equal(first.checkpoint.done.items, first.ids.length);
      const mark = sandbox.requests.length;
      const rest = client.searchImages({ bbox: AREA }).resume(first.checkpoint);
      const more: string[] = [];
      const indexes: number[] = [];
      for await (const page of rest) {
        more.push(...page.items.map((i) => i.id));
        indexes.push(page.index);
      }
      const union = [...first.ids, ...more];
      assert.deepEqual(duplicates(union), [], `stopped after page ${stop}: no item twice`);
      assert.deepEqual(sorted(union), truth, `stopped after page ${stop}: exactly the ground truth`);
      assert.equal(indexes[0], stop, 'page numbers go on from the first run');
      assert.deepEqual(rest.stats.resumed, { items: first.ids.length, pages: stop, cells: first.checkpoint.done.cells });
      assert.equal(rest.stats.items, more.length);
      assert.equal(rest.stats.ended, 'complete');
      assert.equal(rest.stats.cells!.done, rest.stats.cells!.total, 'every cell of the plan done');
      assert.ok(sandbox.requests.length - mark < fullRequests, `resumed after page ${stop}: ${sandbox.requests.length - mark} requests, the whole harvest ${fullRequests}`);
    }
  });

  it('is small: a checkpoint lists the cells in flight and waiting, not items', async () => {
    const { checkpoint } = await stopAfter(3);
    assert.ok(checkpoint.cells.length <= 4 + 8, `${checkpoint.cells.length} cells listed`);
    assert.ok(JSON.stringify(checkpoint).length < 2000, `${JSON.stringify(checkpoint).length} bytes`);
  });

  it('resumes a shape (two polygons) and keeps only its items', async () => {
    const [W, S, E, N] = AREAS.denseCentre;
    const ring = (w: number, s: number, e: number, n: number) => [[w, s], [e, s], [e, n], [w, n], [w, s]];
    const shape = { type: 'MultiPolygon', coordinates: [[ring(W, S, (W + E) / 2, N)], [ring(13.1, 52.3, 13.2, 52.4)]] };
    const inShape = sorted(world.images.filter(({ geometry: { coordinates: [x, y] } }) =>
      (x >= W && x <= (W + E) / 2 && y >= S && y <= N) || (x >= 13.1 && x <= 13.2 && y >= 52.3 && y <= 52.4)).map((i) => i.id));
    const first = await stopAfter(2, { bbox: shape });
    const rest = await client.searchImages({ bbox: shape }).resume(first.checkpoint).toArray();
    const union = [...first.ids, ...rest.map((i) => i.id)];
    assert.deepEqual(duplicates(union), []);
    assert.deepEqual(sorted(union), inShape);
  });

  it('refuses a checkpoint of another search, a torn one, and one given after the walk started', async () => {
    const { checkpoint } = await stopAfter(1);
    const refused = (make: () => unknown, why: RegExp) => assert.throws(make, (error: unknown) => isMapillaryError(error) && error.code === 'MAPILLARY_INVALID_INPUT' && why.test(error.message));
    refused(() => client.searchImages({ bbox: [13.2, 52.4, 13.45, 52.56] }).resume(checkpoint), /another search/);
    refused(() => client.searchImages({ bbox: AREA, fields: ['id', 'captured_at'] }).resume(checkpoint), /another search/);
    refused(() => client.searchImages({ bbox: AREA }).resume({ ...checkpoint, cells: [{ a: 0, b: [1, 2, 3] }] }), /not a box/);
    refused(() => client.searchImages({ bbox: AREA }).resume({ ...checkpoint, cells: [{ a: 7, b: [1, 2, 3, 4] }] }), /unknown area/);
    refused(() => client.searchImages({ bbox: AREA }).resume('{"version":1'), /not an object/);
    refused(() => client.searchImages({ creatorUsername: 'mapper_anna' }).resume(checkpoint), /Only area searches/);
    const started = client.searchImages({ bbox: AREA });
    const iterator = started[Symbol.asyncIterator]();
    await iterator.next();
    refused(() => started.resume(checkpoint), /before it is iterated/);
    await iterator.return?.();
    assert.equal(client.searchImages({ creatorUsername: 'mapper_anna' }).checkpoint(), undefined, 'no checkpoint for searches that cannot resume');
  });

  it('a stream with no page handed out yet resumes from the start', async () => {
    const stream = client.searchImages({ bbox: AREA });
    const checkpoint = JSON.parse(JSON.stringify(stream.checkpoint())) as Checkpoint;
    assert.deepEqual([checkpoint.grid, checkpoint.cell, checkpoint.cells.length, checkpoint.done.items], [0, 0, 0, 0]);
    const mark = requestsTo(sandbox, '/images').length;
    const items = await client.searchImages({ bbox: AREA }).resume(checkpoint).toArray();
    assert.deepEqual(sorted(items.map((i) => i.id)), truth);
    assert.ok(requestsTo(sandbox, '/images').length > mark);
  });
});
