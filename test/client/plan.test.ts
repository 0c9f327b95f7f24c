import assert from 'node:assert/strict';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, useClient } from './setup';
import { isMapillaryError } from '../../src';

const sorted = (ids: string[]) => [...ids].sort();
/** The dense centre and suburb cells around it: several cells of the grid, some cut into parts. */
const AREA = [13.2, 52.4, 13.45, 52.55];

describe('planning an area into cells, and harvesting cells apart', function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox, { concurrency: 4 });

  it('plans without a request; each cell harvested on its own stream, together exactly the ground truth, no item twice', async () => {
    const plan = client.searchImages({ bbox: AREA }).plan()!;
    assert.equal(sandbox.requests.length, 0, 'planning asks nothing');
    assert.ok(plan.cells.length >= 4, `${plan.cells.length} cells`);
    const ids: string[] = [];
    // In reverse order, each on a stream of its own (as separate workers would).
    for (const cell of [...plan.cells].reverse()) {
      const stream = client.searchImages({ bbox: AREA }).only([JSON.parse(JSON.stringify(cell))]);
      assert.equal(stream.search, plan.search);
      for await (const page of stream) ids.push(...page.items.map((i) => i.id));
      assert.equal(stream.stats.cells!.done >= 1, true);
    }
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), sorted(world.imagesIn(AREA as [number, number, number, number]).map((i) => i.id)));
    assert.ok(requestsTo(sandbox, '/images').length >= plan.cells.length);
  });

  it('a shape: only cells that meet it are planned, and the cells give exactly the items inside it', async () => {
    const [W, S, E, N] = AREAS.suburb;
    const triangle = { type: 'Polygon', coordinates: [[[W, S], [E, S], [W, N], [W, S]]] };
    const whole = await client.searchImages({ bbox: triangle }).toArray();
    const plan = client.searchImages({ bbox: triangle }).plan()!;
    const boxCells = client.searchImages({ bbox: AREAS.suburb }).plan()!.cells.length;
    assert.ok(plan.cells.length < boxCells, `${plan.cells.length} of the box's ${boxCells} cells`);
    const ids: string[] = [];
    for (const cell of plan.cells) ids.push(...(await client.searchImages({ bbox: triangle }).only([cell]).toArray()).map((i) => i.id));
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), sorted(whole.map((i) => i.id)));
  });

  it('refuses cells that are not of the area, and searches that cannot be planned', () => {
    const refused = (make: () => unknown, why: RegExp) => assert.throws(make, (error: unknown) => isMapillaryError(error) && error.code === 'MAPILLARY_INVALID_INPUT' && why.test(error.message));
    refused(() => client.searchImages({ bbox: AREA }).only([{ a: 0, b: [13.1, 52.4, 13.2, 52.45] }]), /outside its area/);
    refused(() => client.searchImages({ bbox: AREA }).only([{ a: 1, b: [13.2, 52.4, 13.3, 52.45] }]), /unknown area/);
    refused(() => client.searchImages({ bbox: AREA }).only({ a: 0 }), /not a list/);
    refused(() => client.searchImages({ creatorUsername: 'sandbox-user' }).only([]), /Only area searches/);
    assert.equal(client.searchImages({ creatorUsername: 'sandbox-user' }).plan(), undefined);
    // Long id lists go in several requests per cell: such a search is not planned into cells.
    const ids = world.images.slice(0, 400).map((i) => i.id);
    refused(() => client.searchImages({ bbox: AREA, imageIds: ids }).plan(), /cannot be planned/);
    refused(() => client.searchImages({ bbox: AREA, imageIds: ids }).only([{ a: 0, b: [13.2, 52.4, 13.3, 52.45] }]), /cannot harvest given cells/);
  });
});
