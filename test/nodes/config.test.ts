import assert from 'node:assert/strict';
import { AREAS, SANDBOX_CREDENTIALS } from '../sandbox/data';
import { type Sandbox, startSandbox } from '../sandbox/server';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig } from './setup';

describe(`mapillary-config in Node-RED ${runtimeVersion}`, function () {
  this.timeout(30_000);
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await startSandbox();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await sandbox.close();
  });
  beforeEach(() => sandbox.resetLog());
  afterEach(async () => {
    await helper.unload();
  });

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
    const config = sandboxConfig(sandbox, 'v4', { requestsPerMinute: 60 }); // one request at once, then one a second
    const oneCell = { ...images, bbox: [AREAS.sea[0], AREAS.sea[1], AREAS.sea[0] + 0.05, AREAS.sea[1] + 0.05].join(',') };
    await helper.load(allNodes, [config.node, oneCell, { ...oneCell, id: 'n2', wires: [['out'], ['done2']] }, ...sinks, { id: 'done2', type: 'helper' }], config.credentials);
    assert.equal(helper.getNode('cfg').apiVersion, 'v4');
    const both = Promise.all([collect('out', 'done'), collect('out', 'done2')]);
    helper.getNode('n1').receive({});
    helper.getNode('n2').receive({});
    await both;
    const times = sandbox.requests.map((r) => r.time);
    assert.equal(times.length, 2, 'one request each');
    assert.ok(Math.abs(times[1]! - times[0]!) >= 900, `the second node waited for the shared ceiling (${times[1]! - times[0]!} ms)`);
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
