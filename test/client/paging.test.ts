import assert from 'node:assert/strict';
import { AREAS, SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, sandboxClient, useClient } from './setup';

const sorted = (ids: string[]) => [...ids].sort();

describe('paged endpoints over HTTP', function () {
  this.timeout(30_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox);

  it('follows paging.next of a creator search, sending auth again on every page', async () => {
    const username = world.images[0]!.creator.username;
    const truth = world.images.filter((i) => i.creator.username === username).map((i) => i.id);
    const stream = client.searchImages({ creatorUsername: username, limit: 100 });
    const ids = (await stream.toArray()).map((i) => i.id);
    assert.ok(truth.length > 100, 'more than one page');
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), sorted(truth));
    const sent = requestsTo(sandbox, '/images');
    assert.equal(sent.length, Math.ceil(truth.length / 100));
    assert.ok(sent.slice(1).every((r) => new URL(r.url, sandbox.origin).searchParams.has('after')));
    assert.ok(sent.every((r) => r.headers.authorization === `OAuth ${SANDBOX_CREDENTIALS.clientToken}`));
    assert.equal(stream.stats.pages, sent.length);
  });

  it('walks every v3 Link page and returns every image once', async () => {
    const stream = client.v3.images({ bbox: AREAS.suburb, perPage: 50 });
    const features = await stream.toArray();
    const truth = world.imagesIn(AREAS.suburb);
    assert.ok(truth.length > 100, 'several pages');
    assert.equal(features.length, truth.length);
    assert.deepEqual(duplicates(features.map((f) => String(f.properties.key))), []);
    assert.deepEqual(sorted(features.map((f) => String(f.properties.key))), sorted(truth.map((i) => world.v3Key(i.id))));
    const sent = requestsTo(sandbox, '/v3/images');
    assert.equal(sent.length, Math.ceil(truth.length / 50));
    for (const r of sent) {
      assert.equal(new URL(r.url, sandbox.origin).searchParams.get('client_id'), SANDBOX_CREDENTIALS.clientId);
      assert.equal(r.headers.authorization, undefined, 'no Bearer header without a user token');
    }
  });

  it('sends sort_by=key on v3 map features and detections, so pages do not overlap', async () => {
    const features = await client.v3.mapFeatures({ bbox: AREAS.denseCentre, perPage: 40, layers: 'trafficsigns' }).toArray();
    assert.ok(features.length > 40);
    assert.deepEqual(duplicates(features.map((f) => String(f.properties.key))), []);
    const detections = await client.v3.imageDetections({ bbox: AREAS.suburb, perPage: 30, layers: ['trafficsigns'] }).toArray();
    assert.ok(detections.length > 30);
    assert.deepEqual(duplicates(detections.map((f) => String(f.properties.key))), []);
    for (const r of [...requestsTo(sandbox, '/v3/map_features'), ...requestsTo(sandbox, '/v3/image_detections')]) {
      assert.equal(new URL(r.url, sandbox.origin).searchParams.get('sort_by'), 'key');
    }
  });

  it('sends the user token as Bearer on v3 when there is one', async () => {
    const user = sandboxClient(sandbox, { userToken: SANDBOX_CREDENTIALS.userToken });
    try {
      await user.v3.images({ bbox: AREAS.sea }).toArray();
      assert.equal(requestsTo(sandbox, '/v3/images')[0]!.headers.authorization, `Bearer ${SANDBOX_CREDENTIALS.userToken}`);
    } finally {
      await user.close();
    }
  });

  it('gets detections of an image and of a map feature, entities, and the images of a sequence', async () => {
    const image = world.images.find((i) => i.detections.length > 1)!;
    const detections = await client.imageDetections(image.id).toArray();
    assert.deepEqual(sorted(detections.map((d) => d.id)), sorted(image.detections.map((d) => d.id)));
    assert.equal(typeof detections[0]!.geometry, 'string');
    assert.equal(typeof detections[0]!.value, 'string');

    const feature = world.mapFeatures[0]!;
    const featureDetections = await client.mapFeatureDetections(feature.id, 'id,value').toArray();
    assert.ok(featureDetections.length > 0);
    assert.ok(featureDetections.every((d) => d.value === feature.object_value));

    const entity = await client.getImage(image.id, ['captured_at', 'creator']);
    assert.equal(entity.id, image.id);
    assert.equal(entity.captured_at, image.captured_at);
    assert.deepEqual(entity.creator, image.creator);
    assert.equal(entity.geometry, undefined, 'only the fields asked for');

    const several = await client.getImages([world.images[1]!.id, world.images[0]!.id], 'id');
    assert.deepEqual(several.map((i) => i.id), [world.images[1]!.id, world.images[0]!.id]);

    const mf = await client.getMapFeature(feature.id);
    assert.equal(mf.object_value, feature.object_value);

    const ids = await client.sequenceImageIds(image.sequence);
    assert.deepEqual(ids, world.images.filter((i) => i.sequence === image.sequence).sort((a, b) => a.captured_at - b.captured_at).map((i) => i.id));
  });

  it('maps a missing object to MAPILLARY_NOT_FOUND without retrying', async () => {
    await assert.rejects(client.getImage('999999999999999'), { code: 'MAPILLARY_NOT_FOUND', status: 400, mapillaryCode: 100 });
    assert.equal(sandbox.requests.length, 1);
  });

  it('fetches a vector tile with the token in the query, as tiles want it', async () => {
    const [lon, lat] = world.imagesIn(AREAS.suburb)[0]!.geometry.coordinates as [number, number];
    const n = 2 ** 14;
    const x = Math.floor(((lon + 180) / 360) * n);
    const y = Math.floor(((1 - Math.log(Math.tan((lat * Math.PI) / 180) + 1 / Math.cos((lat * Math.PI) / 180)) / Math.PI) / 2) * n);
    const bytes = await client.tile('mly1_public/2', 14, x, y);
    assert.ok(bytes.length > 0);
    const sent = sandbox.requests[0]!;
    assert.equal(new URL(sent.url, sandbox.origin).pathname, `/tiles/maps/vtp/mly1_public/2/14/${x}/${y}`, 'Mapillary\'s documented path');
    assert.equal(new URL(sent.url, sandbox.origin).searchParams.get('access_token'), SANDBOX_CREDENTIALS.clientToken);
    assert.equal(sent.headers.authorization, undefined);
    // The old path without /maps/vtp is not a tile.
    assert.equal((await fetch(`${sandbox.tilesUrl}/mly1_public/2/14/${x}/${y}?access_token=${encodeURIComponent(SANDBOX_CREDENTIALS.clientToken)}`)).status, 404);
  });

  it('never sends a user token to tiles (it would sit in the URL): the client token, or a coded error', async () => {
    const withUser = sandboxClient(sandbox, { userToken: SANDBOX_CREDENTIALS.userToken });
    const userOnly = sandboxClient(sandbox, { clientToken: '', userToken: SANDBOX_CREDENTIALS.userToken });
    try {
      sandbox.resetLog();
      await withUser.tile('mly1_public/2', 14, 8800, 5373);
      assert.equal(new URL(sandbox.requests[0]!.url, sandbox.origin).searchParams.get('access_token'), SANDBOX_CREDENTIALS.clientToken);
      await assert.rejects(userOnly.tile('mly1_public/2', 14, 8800, 5373), { code: 'MAPILLARY_AUTH' });
      assert.equal(sandbox.requests.length, 1);
      assert.ok(!sandbox.requests.some((r) => r.url.includes(encodeURIComponent(SANDBOX_CREDENTIALS.userToken)) || r.url.includes(SANDBOX_CREDENTIALS.userToken)));
    } finally {
      await withUser.close();
      await userOnly.close();
    }
  });
});
