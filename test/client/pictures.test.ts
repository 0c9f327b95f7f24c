import assert from 'node:assert/strict';
import { decode as decodeJpeg } from 'jpeg-js';
import { SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { PICTURE_DIMENSIONS, pictureJpeg } from '../../sandbox/tiles';
import { useSandbox } from '../support';
import { sandboxClient, useClient } from './setup';
import { isMapillaryError } from '../../src';

const coded = (code: string) => (error: unknown) => isMapillaryError(error) && error.code === code;

describe('pictures: an image\'s bytes at a size, from a fresh signed URL, with no credential to the CDN', function () {
  this.timeout(30_000);
  // Picture URLs stay valid 2 s here, so that one can expire during a test.
  const sandbox = useSandbox({ thumbTtlMs: 2000 });
  const client = useClient(sandbox);
  const image = world.images[42]!;
  const thumbs = () => sandbox.requests.filter((r) => r.url.startsWith('/thumbs/'));

  it('each size: a real JPEG of that size, its content type, and the image\'s fields without the signed URL', async () => {
    for (const size of ['256', '1024', '2048', 'original'] as const) {
      const picture = await client.picture(image.id, size);
      assert.equal(picture.contentType, 'image/jpeg');
      assert.ok(picture.bytes.equals(pictureJpeg(size)), `${size}: the bytes the CDN served`);
      const decoded = decodeJpeg(picture.bytes, { maxMemoryUsageInMB: 256 });
      assert.deepEqual([decoded.width, decoded.height], PICTURE_DIMENSIONS[size]);
      assert.equal(picture.image.id, image.id);
      assert.deepEqual(picture.image.geometry, image.geometry);
      assert.equal((picture.image.creator as { username: string }).username, image.creator.username);
      assert.ok(!Object.keys(picture.image).some((k) => k.startsWith('thumb_')), 'the signed URL is not passed on');
    }
    assert.equal(thumbs().length, 4);
  });

  it('sends no credential to the CDN: no Authorization header, no token in the URL (also with a user token)', async () => {
    const withUser = sandboxClient(sandbox, { userToken: SANDBOX_CREDENTIALS.userToken });
    try {
      await client.picture(image.id, '256');
      await withUser.picture(image.id, '1024');
    } finally {
      await withUser.close();
    }
    assert.equal(thumbs().length, 2);
    for (const request of thumbs()) {
      assert.equal(request.headers.authorization, undefined);
      assert.ok(!/access_token|client_id|MLY/.test(request.url), request.url);
    }
    const asked = sandbox.requests.filter((r) => r.url.startsWith(`/graph/${image.id}`));
    assert.equal(asked.length, 2, 'a fresh URL was asked for each picture');
    assert.ok(asked.every((r) => typeof r.headers.authorization === 'string'));
  });

  it('an URL that expired before its download is asked for again, once', async () => {
    sandbox.inject({ kind: 'slow', path: /^\/thumbs\//, delayMs: 3500, times: 1 });
    const picture = await client.picture(image.id, '256');
    assert.ok(picture.bytes.equals(pictureJpeg('256')));
    assert.equal(thumbs().length, 2, 'the expired URL, then a fresh one');
    assert.equal(sandbox.requests.filter((r) => r.url.startsWith(`/graph/${image.id}`)).length, 2);
  });

  it('refuses a picture over the size cap, a size that is not served, an unknown image; stops when aborted', async () => {
    await assert.rejects(client.picture(image.id, '1024', { maxBytes: 1000 }), coded('MAPILLARY_TOO_LARGE'));
    await assert.rejects(client.picture(image.id, '640'), coded('MAPILLARY_INVALID_INPUT'));
    await assert.rejects(client.picture('123456789', '256'), (error: unknown) => isMapillaryError(error) && error.code !== 'MAPILLARY_INTERNAL');
    sandbox.inject({ kind: 'slow', path: /^\/thumbs\//, delayMs: 5000, times: 1 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(client.picture(image.id, '256', { signal: controller.signal }), coded('MAPILLARY_ABORTED'));
    assert.ok(Date.now() - started < 2000, 'stopped at once');
  });
});
