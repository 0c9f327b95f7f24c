import assert from 'node:assert/strict';
import { type BBox, SANDBOX_CREDENTIALS, World } from '../../sandbox/data';
import { CITY, densityWorlds, SWEEP } from '../../sandbox/worlds';
import { useSandbox } from '../support';
import { sandboxClient, useClient } from './setup';

/**
 * Cells sized by what is known, over HTTP, on the sandbox's density worlds: every image once
 * whatever the cutting, and the requests it takes (searches and coverage tiles together).
 */
describe('cells sized by density over HTTP (coverage tiles, density worlds)', function () {
  this.timeout(60_000);
  let built: World | undefined;
  // A box of 6000 images, one of 36,000, and the city (built when the sandbox starts).
  const world = (): World => (built ??= new World(densityWorlds({ sweep: [1, 5] })));
  const sandbox = useSandbox({ get world() { return world(); } });
  const client = useClient(sandbox);
  const dense = SWEEP.box(5);
  const spot: BBox = [16.368, 48.206, 16.376, 48.211];

  const searches = () => sandbox.requests.filter((r) => r.url.startsWith('/graph/images'));
  const tiles = () => sandbox.requests.filter((r) => r.url.startsWith('/tiles/'));
  const floor = (items: number) => Math.ceil(items / 2000);

  async function harvest(bbox: BBox, options: Record<string, unknown> = {}, on = client) {
    const stream = on.searchImages({ bbox, fields: ['id'], ...options });
    const ids: string[] = [];
    for await (const page of stream) for (const item of page.items) ids.push(item.id);
    return { ids, stats: stream.stats };
  }

  function assertExact(ids: string[], bbox: BBox): void {
    const truth = world().imagesIn(bbox).map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, 'no image twice');
    assert.deepEqual([...ids].sort(), [...truth].sort(), 'every image of the ground truth');
  }

  it('harvests 36,000 images in one box exactly, within 1.5 times the floor with tiles, and in fewer requests than without', async () => {
    const on = await harvest(dense);
    assertExact(on.ids, dense);
    const withTiles = { searches: searches().length, tiles: tiles().length };
    assert.ok(withTiles.tiles > 0, 'a tile sized the cut');
    assert.equal(on.stats.tileRequests, withTiles.tiles, 'tile requests are counted in the stats');
    assert.equal(on.stats.requests, withTiles.searches + withTiles.tiles, 'and in the requests');
    assert.ok(withTiles.searches + withTiles.tiles <= 1.5 * floor(on.ids.length), JSON.stringify(withTiles));

    sandbox.resetLog();
    const off = await harvest(dense, { coverageTiles: false });
    assertExact(off.ids, dense);
    assert.equal(tiles().length, 0, 'no tile with tiles off');
    assert.equal(off.stats.tileRequests ?? 0, 0);
    assert.ok(searches().length > withTiles.searches + withTiles.tiles, `${searches().length} requests without tiles`);
  });

  it('harvests a clustered city and its densest spot exactly, the spot in fewer requests with tiles', async () => {
    const city = await harvest(CITY.area, { limit: 2000 });
    assertExact(city.ids, CITY.area);
    sandbox.resetLog();
    const on = await harvest(spot);
    assertExact(on.ids, spot);
    const withTiles = searches().length + tiles().length;
    sandbox.resetLog();
    await harvest(spot, { coverageTiles: false });
    assert.ok(withTiles < searches().length, `${withTiles} requests with tiles, ${searches().length} without`);
  });

  it('sends tiles only the client token, in their URL, even when a user token is set', async () => {
    const user = sandboxClient(sandbox, { userToken: SANDBOX_CREDENTIALS.userToken });
    try {
      assertExact((await harvest(dense, {}, user)).ids, dense);
    } finally {
      await user.close();
    }
    assert.ok(tiles().length > 0);
    for (const request of tiles()) {
      assert.equal(new URL(request.url, 'http://x').searchParams.get('access_token'), SANDBOX_CREDENTIALS.clientToken);
      assert.equal(request.headers.authorization, undefined);
    }
    for (const request of searches()) assert.equal(request.headers.authorization, `OAuth ${SANDBOX_CREDENTIALS.userToken}`);
  });

  it('goes on without tiles when they fail, still exact, and the client leaves them alone for a while', async () => {
    sandbox.inject({ kind: '5xx', path: /^\/tiles\//, times: Infinity });
    const first = await harvest(dense);
    assertExact(first.ids, dense);
    assert.ok(tiles().length >= 1 && tiles().length <= 2, `one tile, tried twice at most: ${tiles().length}`);
    sandbox.resetLog();
    assertExact((await harvest(dense)).ids, dense);
    assert.equal(tiles().length, 0, 'the next harvest of this client asks no tile');
  });

  it('stays exact when slow tiles fail while several cells wait for them', async () => {
    sandbox.inject({ kind: '5xx', path: /^\/tiles\//, times: Infinity, delayMs: 150 });
    const city = await harvest(CITY.area);
    assertExact(city.ids, CITY.area);
    assert.equal(city.stats.ended, 'complete');
  });

  it('asks no tile where tiles cannot count the search: filtered by creator, or map features', async () => {
    const creator = world().imagesIn(dense)[0]!.creator.username;
    const byCreator = await harvest(dense, { creatorUsername: creator });
    assert.deepEqual([...byCreator.ids].sort(), world().imagesIn(dense).filter((i) => i.creator.username === creator).map((i) => i.id).sort());
    assert.equal(tiles().length, 0);
    await client.searchMapFeatures({ bbox: dense }).toArray();
    assert.equal(tiles().length, 0);
  });

  it('asks no tile when the graph host is not Mapillary\'s but the tiles host is (they would describe other data)', async () => {
    const elsewhere = sandboxClient(sandbox, { baseUrls: { graph: sandbox.graphUrl } });
    try {
      const { ids, stats } = await harvest(dense, {}, elsewhere);
      assertExact(ids, dense);
      assert.equal(stats.tileRequests ?? 0, 0);
    } finally {
      await elsewhere.close();
    }
  });
});
