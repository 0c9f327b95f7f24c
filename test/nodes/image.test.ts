import assert from 'node:assert/strict';
import { AREAS, world } from '../../sandbox/data';
import { pictureJpeg } from '../../sandbox/tiles';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, useNodeRed } from './setup';

describe(`mapillary-image in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();
  const images = world.imagesIn(AREAS.denseCentre).slice(0, 6);

  async function load(node: Record<string, unknown> = {}) {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'n1', type: 'mapillary-image', mapillary: 'cfg', size: '1024', wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], config.credentials);
  }

  it('a page of items: one picture each, in order, with its content type, fields, place and attribution', async () => {
    await load();
    const run = collect();
    helper.getNode('n1').receive({ payload: images.map((i) => ({ id: i.id, geometry: i.geometry })), topic: 'street' });
    const { out, done } = await run;
    assert.deepEqual(out.map((m) => m.mapillary.id), images.map((i) => i.id), 'in the input\'s order');
    for (const [i, msg] of out.entries()) {
      const image = images[i]!;
      assert.ok(Buffer.isBuffer(msg.payload) && msg.payload.equals(pictureJpeg('1024')));
      assert.equal(msg.contentType, 'image/jpeg');
      assert.equal(msg.filename, `mapillary-${image.id}-1024.jpg`);
      assert.equal(msg.topic, 'street');
      assert.deepEqual(msg.location, { lat: image.geometry.coordinates[1], lon: image.geometry.coordinates[0] });
      assert.equal(msg.attribution.author, image.creator.username);
      assert.equal(msg.attribution.license, 'CC BY-SA 4.0');
      assert.match(msg.attribution.text, new RegExp(`^© ${image.creator.username}, Mapillary, CC BY-SA 4.0`));
      assert.equal(msg.mapillary.captured_at, image.captured_at);
    }
    assert.deepEqual([done.payload.pictures, done.payload.ended], [images.length, 'complete']);
    assert.equal(done.payload.bytes, images.length * pictureJpeg('1024').length);
    const thumbs = sandbox.requests.filter((r) => r.url.startsWith('/thumbs/'));
    assert.equal(thumbs.length, images.length);
    assert.ok(thumbs.every((r) => r.headers.authorization === undefined && !/token|MLY/.test(r.url)), 'no credential to the CDN');
  });

  it('an id as text, msg.size when the node has none; errors coded to Catch, the pictures before them kept', async () => {
    await load({ size: '' });
    let run = collect();
    helper.getNode('n1').receive({ payload: images[0]!.id, size: '256' });
    let result = await run;
    assert.ok(result.out[0]!.payload.equals(pictureJpeg('256')));

    run = collect();
    helper.getNode('n1').receive({ payload: [images[0]!.id, '123456789', images[1]!.id], size: '256' });
    result = await run;
    assert.equal(result.done.payload.ended, 'error');
    assert.match(result.done.payload.error.code, /^MAPILLARY_/);
    assert.deepEqual(result.out.map((m) => m.mapillary.id), [images[0]!.id], 'the picture before the failure was sent');

    for (const [payload, size, code] of [[{ no: 'id' }, '256', 'MAPILLARY_INVALID_INPUT'], [images[0]!.id, '640', 'MAPILLARY_INVALID_INPUT']] as const) {
      run = collect();
      helper.getNode('n1').receive({ payload, size });
      result = await run;
      assert.equal(result.done.payload.error.code, code);
    }
  });

  it('refuses a picture over its max size (MAPILLARY_TOO_LARGE); a smaller one passes', async () => {
    // 0.05 MB: the sandbox's 1024 px picture is under it, its original over it.
    assert.ok(pictureJpeg('1024').length < 0.05 * 1024 * 1024 && pictureJpeg('original').length > 0.05 * 1024 * 1024);
    await load({ size: '', maxMb: 0.05 });
    let run = collect();
    helper.getNode('n1').receive({ payload: images[0]!.id, size: 'original' });
    assert.equal((await run).done.payload.error.code, 'MAPILLARY_TOO_LARGE');
    run = collect();
    helper.getNode('n1').receive({ payload: images[0]!.id, size: '1024' });
    assert.equal((await run).done.payload.ended, 'complete');
  });

  it('stops its downloads when closed (a redeploy), and sends nothing afterwards', async () => {
    await load();
    sandbox.inject({ kind: 'slow', path: /^\/thumbs\//, delayMs: 5000, times: 10 });
    let after = 0;
    let closed = false;
    helper.getNode('out').on('input', () => { if (closed) after += 1; });
    helper.getNode('done').on('input', () => { if (closed) after += 1; });
    helper.getNode('n1').receive({ payload: images.map((i) => i.id) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await helper.unload();
    closed = true;
    assert.ok(Date.now() - started < 3000, 'close did not wait for the downloads');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(after, 0);
    await load(); // afterEach unloads
  });
});
