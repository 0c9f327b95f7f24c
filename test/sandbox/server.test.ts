import assert from 'node:assert/strict';
import { decode as decodeJpeg } from 'jpeg-js';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { AREAS, type BBox, HOTSPOT_POINT, SANDBOX_CREDENTIALS as CREDS, world } from '../../sandbox/data';
import { type Sandbox, startSandbox } from '../../sandbox/server';

const CLIENT = { Authorization: `OAuth ${CREDS.clientToken}` };
const box = (b: BBox): string => b.join(',');
const sorted = (ids: string[]): string[] => [...ids].sort();
const quarters = ([w, s, e, n]: BBox): BBox[] => {
  const [lon, lat] = [w + (e - w) / 2, s + (n - s) / 2];
  return [[w, s, lon, lat], [lon, s, e, lat], [w, lat, lon, n], [lon, lat, e, n]];
};
const nextLink = (res: Response): string | undefined => /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];

describe('sandbox', function () {
  this.timeout(20_000);
  let sandbox: Sandbox;
  const graph = async (path: string, headers: Record<string, string> = CLIENT) => {
    const res = await fetch(`${sandbox.graphUrl}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.close());
  beforeEach(() => {
    sandbox.clearFaults();
    sandbox.resetLog();
  });

  describe('v4 graph', () => {
    it('selects fields, nested ones included, and always gives the id', async () => {
      const image = world.images.find((i) => i.detections.length >= 2)!;
      const { body } = await graph(`/${image.id}?fields=captured_at,creator,geometry,detections.value`);
      assert.deepEqual(body, {
        captured_at: image.captured_at, creator: image.creator, geometry: image.geometry, id: image.id,
        detections: { data: image.detections.map((d) => ({ value: d.value, id: d.id })) },
      });
      assert.deepEqual((await graph(`/${image.id}`)).body, { id: image.id });
      const bad = await graph(`/${image.id}?fields=nope`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 100);
    });

    it('serves detections, map features, sequences, ?ids= and thumbnails', async () => {
      const feature = world.mapFeaturesIn(AREAS.suburb)[0]!;
      const { body: mf } = await graph(`/${feature.id}?fields=object_value,object_type,geometry,first_seen_at,images`);
      assert.equal(mf.object_value, feature.object_value);
      assert.match(mf.first_seen_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
      assert.deepEqual(mf.images.data.map((i: { id: string }) => i.id), world.imagesOf(feature).map((i) => i.id));
      const { body: detections } = await graph(`/${feature.id}/detections?fields=id,value,created_at,image,geometry`);
      assert.equal(detections.data.length, feature.detections.length);
      assert.deepEqual(Object.keys(detections.data[0].image), ['geometry', 'id']);
      assert.equal(typeof detections.data[0].geometry, 'string');
      const sequence = world.sequences[3]!;
      assert.deepEqual((await graph(`/image_ids?sequence_id=${sequence.id}`)).body.data.map((i: { id: string }) => i.id), sequence.image_ids);
      const [a, b] = sequence.image_ids;
      assert.deepEqual(Object.keys((await graph(`/?ids=${a},${b}&fields=sequence`)).body), [a, b]);
      const missing = await graph('/123456789');
      assert.deepEqual([missing.status, missing.body.error.code, missing.body.error.error_subcode], [400, 100, 33]);

      const thumbUrl = (await graph(`/${a}?fields=thumb_256_url`)).body.thumb_256_url as string;
      assert.ok(thumbUrl.startsWith(`${sandbox.origin}/thumbs/`));
      const thumb = await fetch(thumbUrl);
      assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
      const bytes = Buffer.from(await thumb.arrayBuffer());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
      const decoded = decodeJpeg(bytes);
      assert.deepEqual([decoded.width, decoded.height], [256, 192]);
      assert.equal((await fetch(thumbUrl.replace(/sig=.*/, 'sig=forged'))).status, 403);
      assert.equal((await fetch(thumbUrl.replace(/exp=\d+/, 'exp=1000'))).status, 403, 'another expiry: the signature does not match');
    });

    it('wants a valid token: 401 code 190 without one; /me only for a user', async () => {
      const variants: Array<Record<string, string>> = [{}, { Authorization: 'OAuth wrong' }, { Authorization: `Bearer ${CREDS.clientToken}` }];
      for (const headers of variants) {
        const { status, body } = await graph('/images?bbox=13.41,52.51,13.42,52.515', headers);
        assert.equal(status, 401);
        assert.deepEqual([body.error.code, body.error.type, body.error.message], [190, 'MLYApiException', 'Invalid OAuth 2.0 Access Token']);
      }
      assert.equal((await graph('/me')).status, 400);
      const me = await graph('/me', { Authorization: `OAuth ${CREDS.userToken}` });
      assert.deepEqual(me.body, { username: CREDS.username, id: world.user(CREDS.username)!.id });
    });

    it('refuses large boxes, bad parameters and dense places; cuts at limit without a cursor', async () => {
      for (const query of ['bbox=13.3,52.4,13.4,52.5', 'bbox=1,2,3', 'bbox=13.42,52.51,13.41,52.52', 'bbox=13.41,52.51,13.42,52.515&limit=2001', 'bbox=13.41,52.51,13.42,52.515&start_captured_at=yesterday']) {
        const { status, body } = await graph(`/images?${query}`);
        assert.deepEqual([status, body.error.code, body.error.error_subcode], [400, 100, undefined], query);
      }
      const dense = await graph(`/images?bbox=${box(AREAS.denseCentre)}`);
      assert.deepEqual([dense.status, dense.body.error.code], [500, 1]);
      assert.match(dense.body.error.message, /Please reduce the amount of data/);
      assert.equal((await graph(`/images?bbox=${box(quarters(AREAS.denseCentre)[2]!)}`)).status, 500, 'the NW quarter is dense too');

      const se = quarters(AREAS.denseCentre)[1]!;
      const { body } = await graph(`/images?bbox=${box(se)}&fields=id`);
      assert.deepEqual(sorted(body.data.map((i: { id: string }) => i.id)), sorted(world.imagesIn(se).map((i) => i.id)));
      const hotspot = await graph(`/images?bbox=${box(AREAS.hotspot)}&fields=geometry`);
      assert.equal(hotspot.body.data.length, 2000);
      assert.equal(hotspot.body.paging, undefined);
      assert.deepEqual(hotspot.body.data[0].geometry.coordinates, HOTSPOT_POINT);
      assert.equal((await graph(`/images?bbox=${box(AREAS.hotspot)}&limit=10`)).body.data.length, 10);
      const features = await graph(`/map_features?bbox=${box(AREAS.denseCentre)}&object_values=regulatory--*,warning--*&fields=object_value`);
      assert.equal(features.body.data.length, world.mapFeaturesIn(AREAS.denseCentre).filter((f) => /^(regulatory|warning)--/.test(f.object_value)).length);
      assert.equal((await graph(`/map_features?bbox=${box(AREAS.denseCentre)}`)).body.data.length, 2000, 'all 2400 exceed one limit');
    });

    it('pages creator_username searches with paging.next, newest first, without the token', async () => {
      const truth = world.images.filter((i) => i.creator.username === CREDS.username).sort((a, b) => b.captured_at - a.captured_at);
      let url: string | undefined = `${sandbox.graphUrl}/images?creator_username=${CREDS.username}&limit=300&access_token=${encodeURIComponent(CREDS.clientToken)}`;
      const ids: string[] = [];
      while (url) {
        const body = (await (await fetch(url, { headers: CLIENT })).json()) as { data: Array<{ id: string }>; paging?: { next: string } };
        ids.push(...body.data.map((i) => i.id));
        url = body.paging?.next;
        if (url) assert.ok(!url.includes('access_token') && new URL(url).searchParams.has('after'));
      }
      assert.deepEqual(ids, truth.map((i) => i.id));
      assert.equal(sandbox.requests.length, Math.ceil(truth.length / 300));
    });
  });

  describe('faults', () => {
    const imageId = world.images[0]!.id;
    const get = () => fetch(`${sandbox.graphUrl}/${imageId}`, { headers: CLIENT });

    it('serves each kind once per injection, on matching requests only, and counts them', async () => {
      sandbox.inject({ kind: '429', path: '/images' });
      assert.equal((await get()).status, 200, 'other paths are not touched');
      const cases: Array<[Parameters<Sandbox['inject']>[0], number, number | undefined]> = [
        [{ kind: '429', retryAfter: 7 }, 429, 4], [{ kind: '403-4' }, 403, 4], [{ kind: '500-1' }, 500, 1], [{ kind: '401-190' }, 401, 190],
        [{ kind: '400-query-timeout' }, 400, -2],
      ];
      for (const [fault, status, code] of cases) {
        sandbox.inject({ ...fault, path: new RegExp(`^/${imageId}$`) });
        const res = await get();
        const body = (await res.json()) as { error: { code: number; is_transient?: boolean } };
        assert.deepEqual([res.status, body.error.code], [status, code]);
        if (code === 4) assert.equal(body.error.is_transient, true);
        if (code === -2) assert.deepEqual([(body.error as Record<string, unknown>).error_subcode, body.error.is_transient], [3404014, false]);
        if (fault.retryAfter) assert.equal(res.headers.get('retry-after'), '7');
      }
      sandbox.inject({ kind: '5xx', times: 2 });
      const [first, second] = [await get(), await get()];
      assert.deepEqual([first.status, first.headers.get('content-type'), second.status, await second.text()], [502, 'text/html', 503, '']);
      sandbox.inject({ kind: 'malformed' });
      await assert.rejects((await get()).json(), SyntaxError);
      sandbox.inject({ kind: 'truncated' });
      await assert.rejects(get().then((res) => res.text()));
      sandbox.inject({ kind: 'reset', method: 'GET', path: `/graph/${imageId}` });
      await assert.rejects(get());
      assert.equal((await get()).status, 200);
      assert.deepEqual(sandbox.stats(), {
        requests: 12, faults: { '429': 1, '403-4': 1, '500-1': 1, '5xx': 2, reset: 1, slow: 0, malformed: 1, truncated: 1, '401-190': 1, '400-query-timeout': 1 },
      });
    });

    it('slows a request down, and lets go cleanly when the client leaves', async () => {
      sandbox.inject({ kind: 'slow', delayMs: 300 });
      const started = Date.now();
      assert.equal((await get()).status, 200);
      assert.ok(Date.now() - started >= 290);
      // The sandbox's own waits: timers of other tests in this process do not count.
      assert.equal(sandbox.pendingWaits(), 0);
      sandbox.inject({ kind: 'slow', delayMs: 60_000 });
      const controller = new AbortController();
      const pending = fetch(`${sandbox.graphUrl}/${imageId}`, { headers: CLIENT, signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(sandbox.pendingWaits(), 1, 'the slow answer waits on a timer');
      controller.abort();
      await assert.rejects(pending);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(sandbox.pendingWaits(), 0, 'no timer left behind');
    });

    it('draws random faults deterministically from the seed', async () => {
      const run = async () => {
        sandbox.clearFaults();
        sandbox.randomFaults({ rate: 0.3, kinds: ['429', '500-1'], seed: 3, path: /^\/\d+$/ });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await get()).status);
        return statuses;
      };
      const first = await run();
      assert.deepEqual(await run(), first);
      assert.ok(first.includes(200) && first.some((s) => s !== 200));
    });

    it('reuses kept-alive sockets and closes active ones on close()', async () => {
      const other = await startSandbox();
      const url = `${other.graphUrl}/${imageId}`;
      for (let i = 0; i < 3; i++) {
        await (await fetch(url, { headers: CLIENT })).text();
        await new Promise((resolve) => setTimeout(resolve, 10)); // undici returns the socket to its pool a moment later
      }
      assert.ok((await other.openConnections()) < 3, 'three requests in a row did not need three sockets');
      other.inject({ kind: 'slow', delayMs: 60_000 });
      const pending = fetch(url, { headers: CLIENT });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await other.close();
      assert.ok(Date.now() - started < 1000);
      await assert.rejects(pending);
    });
  });

  describe('legacy v3', () => {
    const walk = async (first: string): Promise<{ keys: string[]; pages: number }> => {
      const keys: string[] = [];
      let pages = 0;
      for (let url: string | undefined = first; url; pages++) {
        const res = await fetch(url);
        assert.match(res.headers.get('link') ?? '', /rel="first"/);
        keys.push(...((await res.json()) as { features: Array<{ properties: { key: string } }> }).features.map((f) => f.properties.key));
        url = nextLink(res);
        if (url) assert.equal(new URL(url).searchParams.get('client_id'), CREDS.clientId);
      }
      return { keys, pages };
    };

    it('walks Link pages: every item once with sort_by=key, one repeat per page boundary without', async () => {
      const images = await walk(`${sandbox.v3Url}/images?client_id=${CREDS.clientId}&bbox=${box(AREAS.suburb)}&per_page=300`);
      assert.deepEqual(sorted(images.keys), sorted(world.imagesIn(AREAS.suburb).map((i) => world.v3Key(i.id))));
      const truth = world.mapFeaturesIn(AREAS.suburb).map((f) => world.v3Key(f.id));
      const exact = await walk(`${sandbox.v3Url}/map_features?client_id=${CREDS.clientId}&bbox=${box(AREAS.suburb)}&per_page=40&sort_by=key`);
      assert.deepEqual(exact.keys, [...truth].sort());
      const buggy = await walk(`${sandbox.v3Url}/map_features?client_id=${CREDS.clientId}&bbox=${box(AREAS.suburb)}&per_page=40`);
      assert.equal(buggy.keys.length, truth.length + buggy.pages - 1);
      assert.deepEqual(sorted([...new Set(buggy.keys)]), sorted(truth));
    });

    it('needs client_id, checks a Bearer token, and shapes detections', async () => {
      const image = world.images.find((i) => i.detections.length > 0)!;
      const noClient = await fetch(`${sandbox.v3Url}/images?bbox=${box(AREAS.sea)}`);
      assert.equal(noClient.status, 401);
      assert.equal(typeof ((await noClient.json()) as { message: string }).message, 'string');
      const url = `${sandbox.v3Url}/image_detections?client_id=${CREDS.clientId}&image_keys=${world.v3Key(image.id)}&sort_by=key`;
      assert.equal((await fetch(url, { headers: { Authorization: 'Bearer nope' } })).status, 401);
      const res = await fetch(url, { headers: { Authorization: `Bearer ${CREDS.userToken}` } });
      const { features } = (await res.json()) as { features: Array<{ geometry: unknown; properties: Record<string, any> }> };
      assert.equal(features.length, image.detections.length);
      assert.deepEqual(features[0]!.geometry, image.geometry);
      assert.equal(features[0]!.properties.image_key, world.v3Key(image.id));
      assert.equal(features[0]!.properties.shape.type, 'Polygon');
    });
  });

  describe('oauth', () => {
    const cb = 'http://127.0.0.1:9/callback';
    const authorize = async (target: Sandbox, query: string, decision = 'approve'): Promise<URL> => {
      const page = await fetch(`${target.authorizeUrl}?${query}`);
      const html = await page.text();
      assert.match(html, /<title>Authorize Sandbox App<\/title>/);
      assert.match(html, /id="approve"/);
      assert.match(html, /id="deny"/);
      const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
      const answer = await fetch(`${target.origin}/connect/decision`, { method: 'POST', body: new URLSearchParams({ request, decision }), redirect: 'manual' });
      assert.equal(answer.status, 302);
      return new URL(answer.headers.get('location')!);
    };
    const token = (body: Record<string, string>, secret: string = CREDS.clientSecret) =>
      fetch(sandbox.tokenUrl, { method: 'POST', headers: { Authorization: `OAuth ${secret}` }, body: new URLSearchParams(body) });

    it('runs connect -> code -> token -> /me, then refresh; codes are single-use', async () => {
      const redirect = await authorize(sandbox, `client_id=${CREDS.clientId}&response_type=code&scope=read&state=s1&redirect_uri=${encodeURIComponent(cb)}`);
      assert.equal(redirect.origin + redirect.pathname, cb);
      assert.equal(redirect.searchParams.get('state'), 's1');
      const code = redirect.searchParams.get('code')!;
      assert.equal((await token({ grant_type: 'authorization_code', client_id: CREDS.clientId, code }, 'MLY|4242|wrong')).status, 401);
      const granted = (await (await token({ grant_type: 'authorization_code', client_id: CREDS.clientId, code })).json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(granted).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.deepEqual([granted.expires_in, granted.token_type], [5184000, 'bearer']);
      const me = await graph('/me', { Authorization: `OAuth ${granted.access_token}` });
      assert.equal(me.body.username, CREDS.username);
      const reused = await token({ grant_type: 'authorization_code', client_id: CREDS.clientId, code });
      assert.deepEqual([reused.status, ((await reused.json()) as { error: { code: number } }).error.code], [400, 100]);
      const refreshed = await fetch(sandbox.tokenUrl, {
        method: 'POST',
        headers: { Authorization: `OAuth ${CREDS.clientSecret}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', client_id: CREDS.clientId, refresh_token: granted.access_token }),
      });
      const renewed = (await refreshed.json()) as { access_token: string };
      assert.notEqual(renewed.access_token, granted.access_token);
      assert.equal((await graph('/me', { Authorization: `OAuth ${renewed.access_token}` })).status, 200);
    });

    it('redirects denials and unknown clients with an error, and gives the v3 implicit token in the fragment', async () => {
      const denied = await authorize(sandbox, `client_id=${CREDS.clientId}&response_type=code&state=s2&redirect_uri=${encodeURIComponent(cb)}`, 'deny');
      assert.deepEqual([denied.searchParams.get('error'), denied.searchParams.get('state')], ['user_denied', 's2']);
      const unknown = await fetch(`${sandbox.authorizeUrl}?client_id=1&response_type=code&state=s3&redirect_uri=${encodeURIComponent(cb)}`, { redirect: 'manual' });
      assert.equal(new URL(unknown.headers.get('location')!).searchParams.get('error'), 'invalid_request');
      const implicit = await authorize(sandbox, `client_id=${CREDS.clientId}&response_type=token&scope=private:read&state=s4&redirect_uri=${encodeURIComponent(cb)}`);
      const fragment = new URLSearchParams(implicit.hash.slice(1));
      assert.deepEqual([fragment.get('token_type'), fragment.get('state')], ['bearer', 's4']);
      const v3 = await fetch(`${sandbox.v3Url}/images?client_id=${CREDS.clientId}&bbox=${box(AREAS.sea)}`, { headers: { Authorization: `Bearer ${fragment.get('access_token')}` } });
      assert.equal(v3.status, 200);
    });

    it('shows an error page for a redirect_uri other than the registered one', async () => {
      const strict = await startSandbox({ registeredRedirectUri: cb, tokenExpiresIn: 60 });
      try {
        const res = await fetch(`${strict.authorizeUrl}?client_id=${CREDS.clientId}&response_type=code&redirect_uri=${encodeURIComponent('http://evil.example/cb')}`, { redirect: 'manual' });
        assert.equal(res.status, 400);
        assert.match(await res.text(), /redirect_uri does not match/);
        const code = (await authorize(strict, `client_id=${CREDS.clientId}&response_type=code&redirect_uri=${encodeURIComponent(cb)}`)).searchParams.get('code')!;
        const res2 = await fetch(strict.tokenUrl, { method: 'POST', headers: { Authorization: `OAuth ${CREDS.clientSecret}` }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CREDS.clientId, code }) });
        assert.equal(((await res2.json()) as { expires_in: number }).expires_in, 60);
      } finally {
        await strict.close();
      }
    });
  });

  describe('tiles', () => {
    it('serves a z14 image layer with the token in the query, and 403 with a header only', async () => {
      const [lon, lat] = world.imagesIn(AREAS.suburb)[0]!.geometry.coordinates;
      const n = 2 ** 14;
      const tileOf = (lo: number, la: number): [number, number] => [
        Math.floor(((lo + 180) / 360) * n),
        Math.floor(((1 - Math.asinh(Math.tan((la * Math.PI) / 180)) / Math.PI) / 2) * n),
      ];
      const [x, y] = tileOf(lon, lat);
      const url = `${sandbox.tilesUrl}/maps/vtp/mly1_public/2/14/${x}/${y}`;
      assert.equal((await fetch(url, { headers: CLIENT })).status, 403);
      const res = await fetch(`${url}?access_token=${encodeURIComponent(CREDS.clientToken)}`);
      assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
      const layer = new VectorTile(new PbfReader(new Uint8Array(await res.arrayBuffer()))).layers.image!;
      const truth = world.images.filter((i) => tileOf(...i.geometry.coordinates).join() === `${x},${y}`);
      assert.equal(layer.length, truth.length);
      const feature = layer.feature(0);
      const image = world.image(String(feature.properties.id))!;
      assert.ok(truth.includes(image));
      assert.deepEqual(JSON.parse(JSON.stringify(feature.properties)), {
        captured_at: image.captured_at, compass_angle: image.compass_angle, id: Number(image.id), sequence_id: image.sequence,
        is_pano: image.is_pano, ...(image.organization_id ? { organization_id: Number(image.organization_id) } : {}),
      });
      assert.equal(feature.type, 1);
    });
  });

  it('logs every request with method, path and query, headers and body', async () => {
    await fetch(`${sandbox.tokenUrl}?x=1`, { method: 'POST', headers: { Authorization: 'OAuth nope' }, body: 'grant_type=x' });
    assert.deepEqual(sandbox.requests.map((r) => [r.method, r.url, r.headers.authorization, r.body]), [['POST', '/graph/token?x=1', 'OAuth nope', 'grant_type=x']]);
    sandbox.resetLog();
    assert.deepEqual([sandbox.requests.length, sandbox.stats().requests], [0, 0]);
  });
});
