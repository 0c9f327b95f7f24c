import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MapillaryClient, type MapillaryClientOptions } from '../../src/client';
import { SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { startProxy } from '../../sandbox/proxy';
import { startSandbox } from '../../sandbox/server';

/** A tiny server that answers with `respond` and remembers what it was sent. */
async function recorder(respond: (url: string) => { body: unknown; headers?: Record<string, string> }) {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    const { body, headers } = respond(req.url!);
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, origin, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('credentials on the wire', () => {
  it('sends no credentials to a next page on another origin (v4 paging.next and v3 Link)', async () => {
    const other = await recorder(() => ({ body: { data: [{ id: '2' }], type: 'FeatureCollection', features: [{ type: 'Feature', properties: { key: 'b' }, geometry: null }] } }));
    const home = await recorder((url) => url.startsWith('/v3/')
      ? { body: { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { key: 'a' }, geometry: null }] }, headers: { link: `<${other.origin}/v3/images?page=2>; rel="next"` } }
      : { body: { data: [{ id: '1' }], paging: { next: `${other.origin}/images?after=1` } } });
    const client = new MapillaryClient({
      clientId: '4242', clientToken: 'MLY|4242|client', userToken: 'MLY|4242|user', requestsPerMinute: 0,
      baseUrls: { graph: home.origin, v3: `${home.origin}/v3` },
    });
    try {
      const v4 = await client.searchImages({ creatorUsername: 'someone' }).toArray();
      assert.deepEqual(v4.map((i) => i.id), ['1', '2']);
      const v3 = await client.v3.images({ usernames: 'someone' }).toArray();
      assert.deepEqual(v3.map((f) => f.properties.key), ['a', 'b']);

      assert.equal(home.seen[0]!.headers.authorization, 'OAuth MLY|4242|user', 'the user token is preferred on graph');
      assert.equal(home.seen[1]!.headers.authorization, 'Bearer MLY|4242|user');
      assert.match(home.seen[1]!.url, /client_id=4242/);
      for (const r of other.seen) {
        assert.equal(r.headers.authorization, undefined, `no Authorization to ${r.url}`);
        assert.doesNotMatch(r.url, /client_id|access_token|MLY/);
      }
      assert.equal(other.seen.length, 2);
    } finally {
      await client.close();
      await home.close();
      await other.close();
    }
  });

  it('strips an access_token a server put in a graph next link, and never puts one there itself', async () => {
    let calls = 0;
    const home = await recorder(() => (calls++ === 0
      ? { body: { data: [{ id: '1' }], paging: { next: `/images?after=1&access_token=LEAKED` } } }
      : { body: { data: [{ id: '2' }] } }));
    const client = new MapillaryClient({ clientToken: 'MLY|4242|client', baseUrls: { graph: home.origin }, requestsPerMinute: 0 });
    try {
      await client.searchImages({ creatorUsername: 'someone' }).toArray();
      assert.equal(home.seen.length, 2);
      for (const r of home.seen) {
        assert.doesNotMatch(r.url, /access_token|MLY/);
        assert.equal(r.headers.authorization, 'OAuth MLY|4242|client');
      }
    } finally {
      await client.close();
      await home.close();
    }
  });

  it('refuses to call without credentials, before sending anything', async () => {
    const home = await recorder(() => ({ body: {} }));
    const client = new MapillaryClient({ baseUrls: { graph: home.origin, v3: home.origin } });
    try {
      await assert.rejects(client.getImage('1'), { code: 'MAPILLARY_AUTH', message: /client token or a user access token/ });
      await assert.rejects(client.v3.images({ usernames: 'x' }).toArray(), { code: 'MAPILLARY_AUTH', message: /client id/ });
      assert.equal(home.seen.length, 0);
    } finally {
      await client.close();
      await home.close();
    }
  });

  it('rejects bad options with coded errors', () => {
    assert.throws(() => new MapillaryClient({ baseUrls: { graph: 'not a url' } }), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => new MapillaryClient({ baseUrls: { graph: 'ftp://x' } }), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => new MapillaryClient({ timeoutMs: -1 }), { code: 'MAPILLARY_INVALID_INPUT' });
  });
});

describe('proxies', () => {
  it('sends requests through a proxy URL, through HTTP_PROXY, and not to hosts in NO_PROXY', async () => {
    const sandbox = await startSandbox();
    const proxy = await startProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };
    const clients: MapillaryClient[] = [];
    const make = (options: Partial<MapillaryClientOptions>) => {
      const client = new MapillaryClient({ clientToken: SANDBOX_CREDENTIALS.clientToken, baseUrls: { graph: sandbox.graphUrl }, requestsPerMinute: 0, ...options });
      clients.push(client);
      return client;
    };
    const imageId = world.images[0]!.id;
    const target = new URL(sandbox.origin).host;
    try {
      await make({ proxy: { url: proxy.url.replace('http://', 'http://user:pa%3Ass@') } }).getImage(imageId);
      assert.deepEqual(proxy.tunnels, [target]);
      assert.equal(proxy.auth[0], `Basic ${Buffer.from('user:pa:ss').toString('base64')}`);

      delete process.env.http_proxy;
      delete process.env.no_proxy;
      process.env.HTTP_PROXY = proxy.url;
      process.env.NO_PROXY = '';
      await make({ proxy: 'env' }).getImage(imageId);
      assert.equal(proxy.tunnels.length, 2, 'HTTP_PROXY honoured');

      process.env.NO_PROXY = '127.0.0.1';
      await make({ proxy: 'env' }).getImage(imageId);
      await make({ proxy: { url: proxy.url, noProxy: ['127.0.0.1'] } }).getImage(imageId);
      assert.equal(proxy.tunnels.length, 2, 'NO_PROXY and the no-proxy list honoured');
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      for (const client of clients) await client.close();
      await proxy.close();
      await sandbox.close();
    }
  });
});
