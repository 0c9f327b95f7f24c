import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AREAS, SANDBOX_CREDENTIALS } from '../../sandbox/data';
import { decide } from '../../sandbox/approve';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { startProxy } from '../../sandbox/proxy';
import { useSandbox } from '../support';
import { allNodes, collect, helper, httpProxyNode, runtimeVersion, sandboxConfig, useNodeRed } from './setup';

describe(`mapillary-config in Node-RED ${runtimeVersion}`, function () {
  this.timeout(30_000);
  const sandbox = useSandbox();
  useNodeRed();

  const images = { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: AREAS.sea.join(','), wires: [['out'], ['done']] };
  const sinks = [{ id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }];

  it('takes credentials from ${ENV_VARS} and sends the user token when there is one', async () => {
    process.env.MLY_TEST_USER_TOKEN = SANDBOX_CREDENTIALS.userToken;
    try {
      const config = sandboxConfig(sandbox);
      await helper.load(allNodes, [config.node, images, ...sinks], { cfg: { ...config.credentials.cfg, userToken: '${MLY_TEST_USER_TOKEN}' } });
      const run = collect();
      helper.getNode('n1').receive({});
      await run;
      assert.equal(sandbox.requests[0]!.headers.authorization, `OAuth ${SANDBOX_CREDENTIALS.userToken}`);
    } finally {
      delete process.env.MLY_TEST_USER_TOKEN;
    }
  });

  it('shares one client, and so one requests-per-minute ceiling, between the nodes that use it', async () => {
    const config = sandboxConfig(sandbox, 'v4', { requestsPerMinute: 60 }); // ten requests at once, then one a second
    // Six empty cells each: twelve requests, two more than the burst of the shared ceiling.
    const sixCells = { ...images, bbox: [AREAS.sea[0], AREAS.sea[1], AREAS.sea[0] + 0.2, AREAS.sea[1] + 0.2].join(',') };
    await helper.load(allNodes, [config.node, sixCells, { ...sixCells, id: 'n2', wires: [['out'], ['done2']] }, ...sinks, { id: 'done2', type: 'helper' }], config.credentials);
    assert.equal(helper.getNode('cfg').apiVersion, 'v4');
    const both = Promise.all([collect('out', 'done'), collect('out', 'done2')]);
    helper.getNode('n1').receive({});
    helper.getNode('n2').receive({});
    await both;
    const times = sandbox.requests.map((r) => r.time).sort((a, b) => a - b);
    assert.equal(times.length, 12, 'six requests each');
    assert.ok(times[9]! - times[0]! < 900, `ten started at once (${times.map((t) => t - times[0]!).join(', ')} ms)`);
    assert.ok(times[11]! - times[0]! >= 1800, `the last two waited for the shared ceiling (${times.map((t) => t - times[0]!).join(', ')} ms)`);
  });

  it('reports bad settings on every message as a coded error instead of crashing', async () => {
    const config = sandboxConfig(sandbox, 'v4', { graphUrl: 'not a url' });
    await helper.load(allNodes, [config.node, images, ...sinks], config.credentials);
    const run = collect();
    helper.getNode('n1').receive({});
    const { done } = await run;
    assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
    assert.match(done.payload.error.message, /base URL/);
  });

  it('falls back to Mapillary hosts when a ${VAR} setting names an unset variable', async () => {
    const config = sandboxConfig(sandbox, 'v4', { graphUrl: '${MLY_TEST_UNSET_GRAPH}', timeout: '${MLY_TEST_UNSET_TIMEOUT}' });
    await helper.load(allNodes, [config.node, images, ...sinks], config.credentials);
    const cfg = helper.getNode('cfg');
    assert.equal(cfg.configError, undefined);
    assert.equal(cfg.client.baseUrls.graph, 'https://graph.mapillary.com');
    assert.equal(cfg.client.baseUrls.v3, sandbox.v3Url);
    assert.equal(cfg.client.timeoutMs, 30_000);
  });

  it('sends its requests through the http proxy config node chosen in it', async () => {
    const proxy = await startProxy();
    try {
      const config = sandboxConfig(sandbox, 'v4', { proxy: 'px' });
      await helper.load([...allNodes, httpProxyNode], [
        config.node, images, ...sinks,
        { id: 'px', type: 'http proxy', name: 'test proxy', url: proxy.url, noproxy: [] },
      ], { ...config.credentials, px: { username: 'nr', password: 'secret' } });
      const run = collect();
      helper.getNode('n1').receive({});
      await run;
      assert.ok(proxy.tunnels.length > 0 && proxy.tunnels.every((t) => t === new URL(sandbox.origin).host));
      assert.equal(proxy.auth[0], `Basic ${Buffer.from('nr:secret').toString('base64')}`);
    } finally {
      await helper.unload();
      await proxy.close();
    }
  });

  it('reports a missing config node as a coded error', async () => {
    await helper.load(allNodes, [{ ...images, mapillary: '' }, ...sinks]);
    const run = collect();
    helper.getNode('n1').receive({});
    const { done } = await run;
    assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
  });

  it('closes its client on redeploy, releasing the sockets', async () => {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [config.node, images, ...sinks], config.credentials);
    const run = collect();
    helper.getNode('n1').receive({});
    await run;
    const client = helper.getNode('cfg').client;
    await helper.unload();
    assert.equal(client.closed, true);
    for (let i = 0; i < 50 && (await sandbox.openConnections()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await sandbox.openConnections(), 0);
  });
});

describe(`mapillary-config user tokens in Node-RED ${runtimeVersion}`, function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let userDir: string;

  before(async () => {
    sandbox = await startSandbox({ tokenExpiresIn: 3600 });
    userDir = mkdtempSync(join(tmpdir(), 'mly-userdir-'));
    helper.settings({ userDir });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    await sandbox.close();
    rmSync(userDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
  });

  /** A user token as the Authenticate button would get it: through /connect and the code exchange. */
  async function userToken(): Promise<string> {
    const redirect = await decide(`${sandbox.authorizeUrl}?client_id=4242&response_type=code&scope=read&state=s&redirect_uri=http://127.0.0.1:9/cb`);
    const code = redirect.searchParams.get('code')!;
    const answer = await fetch(sandbox.tokenUrl, {
      method: 'POST', headers: { authorization: `OAuth ${SANDBOX_CREDENTIALS.clientSecret}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: '4242', code }),
    });
    return ((await answer.json()) as { access_token: string }).access_token;
  }

  async function start(token: string) {
    const config = sandboxConfig(sandbox);
    const images = { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: [AREAS.sea[0], AREAS.sea[1], AREAS.sea[0] + 0.05, AREAS.sea[1] + 0.05].join(','), wires: [['out'], ['done']] };
    await helper.load(allNodes, [config.node, images, { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }], {
      cfg: { ...config.credentials.cfg, userToken: token, userTokenExpiresAt: String(Date.now() + 3600_000) },
    });
    sandbox.resetLog();
    const run = collect();
    helper.getNode('n1').receive({});
    await run;
    const refresh = sandbox.requests.find((r) => r.url.endsWith('/token'));
    const search = sandbox.requests.find((r) => r.url.startsWith('/graph/images'))!;
    return { refreshedFrom: refresh && new URLSearchParams(refresh.body).get('refresh_token'), usedToken: String(search.headers.authorization).replace('OAuth ', '') };
  }

  it('refreshes ahead of expiry, keeps the new token across a restart without a deploy, and drops it once another token is deployed', async () => {
    const t0 = await userToken();
    const first = await start(t0);
    assert.equal(first.refreshedFrom, t0, 'the token expiring within the hour was refreshed before use');
    const t1 = first.usedToken;
    assert.notEqual(t1, t0);
    const saved = helper.credentials.get('cfg') as Record<string, string>;
    assert.equal(saved.userToken, t1, 'runtime credentials hold the new token for the next deploy');
    assert.match(saved.userTokenExpiresAt!, /^\d+:[0-9a-f]{16}$/);
    const kept = readFileSync(join(userDir, '.mapillary-tokens.json'), 'utf8');
    assert.ok(!kept.includes(t1) && !kept.includes(t0), 'the kept token is encrypted');
    await helper.unload();

    // A restart with the credentials file unchanged (still t0): the kept t1 is used.
    const second = await start(t0);
    assert.equal(second.refreshedFrom, t1, 'the token kept from before the restart was the one in use');
    await helper.unload();

    // The user deploys another token: the kept one no longer applies.
    const other = await userToken();
    const third = await start(other);
    assert.equal(third.refreshedFrom, other);
  });

  it('keeps a first token obtained before any deploy across a restart, and forgets it once a deploy removes it', async () => {
    const config = sandboxConfig(sandbox);
    const images = { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: [AREAS.sea[0], AREAS.sea[1], AREAS.sea[0] + 0.05, AREAS.sea[1] + 0.05].join(','), wires: [['out'], ['done']] };
    const flow = [config.node, images, { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }];
    // A fresh object each time: Node-RED keeps the one given as its credential cache and writes into it.
    const noUserToken = () => ({ cfg: { clientId: '4242', clientSecret: SANDBOX_CREDENTIALS.clientSecret } as Record<string, string> });
    const usedToken = async () => {
      sandbox.resetLog();
      const run = collect();
      helper.getNode('n1').receive({});
      await run;
      // This suite's tokens last an hour, so a token in use is refreshed first: name the one refreshed from.
      const refresh = sandbox.requests.find((r) => r.url.endsWith('/token'));
      if (refresh) return `OAuth ${new URLSearchParams(refresh.body).get('refresh_token')}`;
      return String(sandbox.requests.find((r) => r.url.startsWith('/graph/images'))?.headers.authorization ?? '');
    };

    await helper.load(allNodes, flow, noUserToken());
    const { authorizeUrl } = (await helper.request().post('/mapillary/auth/start').send({
      id: 'cfg', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl: 'http://127.0.0.1:1880/mapillary/auth/callback',
      graphUrl: config.node.graphUrl, authorizeUrl: config.node.authorizeUrl, tokenUrl: config.node.tokenUrl,
    })).body;
    await helper.request().get(`/mapillary/auth/callback${(await decide(authorizeUrl)).search}`);
    const token = (helper.credentials.get('cfg') as Record<string, string>).userToken!;
    assert.ok(token);
    await helper.unload();

    // Node-RED restarts before anyone pressed Deploy: the saved credentials still have no user token.
    await helper.load(allNodes, flow, noUserToken());
    assert.equal(await usedToken(), `OAuth ${token}`, 'the token from before the restart is used');

    // The user clears the token and deploys: it must not come back.
    await helper.setFlows(flow, 'full', { cfg: { ...noUserToken().cfg, userToken: '' } });
    assert.equal(await usedToken(), '', 'no user token (and no client token): the search is refused before sending');
    await helper.unload();
    await helper.load(allNodes, flow, noUserToken());
    assert.equal(await usedToken(), '', 'not after a restart either');
  });
});

