import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AREAS, SANDBOX_CREDENTIALS } from '../../sandbox/data';
import { decide } from '../../sandbox/approve';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { allNodes, helper, runtimeVersion, sandboxConfig } from './setup';

/** Everything an attacker's server received. */
interface Seen { method: string; url: string; headers: Record<string, unknown>; body: string }

function startAttacker(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void>; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url?.startsWith('/token')
        ? JSON.stringify({ access_token: 'MLYARattacker', expires_in: 3600, token_type: 'bearer' })
        : JSON.stringify({ id: '1', username: 'attacker' }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}`, seen, server, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
  }));
}

/** A node type of another package whose credentials happen to be named like ours. */
function otherOAuthNode(RED: any): void {
  RED.nodes.registerType('other-oauth', function OtherOAuth(this: any, def: any) { RED.nodes.createNode(this, def); }, {
    credentials: { clientId: { type: 'text' }, clientSecret: { type: 'password' }, userToken: { type: 'password' } },
  });
}

const SAVED_TOKEN = SANDBOX_CREDENTIALS.userToken;
const OTHER_SECRET = 'other-package-secret-0123456789';

describe(`Admin routes never send a held token or secret to an address from the request (Node-RED ${runtimeVersion}, no adminAuth)`, function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let attacker: Awaited<ReturnType<typeof startAttacker>>;
  const callbackUrl = 'http://127.0.0.1:1880/mapillary/auth/callback';

  before(async () => {
    sandbox = await startSandbox();
    attacker = await startAttacker();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await attacker.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    attacker.seen.length = 0;
    const config = sandboxConfig(sandbox);
    await helper.load([...allNodes, otherOAuthNode], [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: AREAS.sea.join(','), wires: [[], []] },
      { id: 'other', type: 'other-oauth' },
    ], {
      cfg: { ...config.credentials.cfg, userToken: SAVED_TOKEN },
      other: { clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: OTHER_SECRET, userToken: OTHER_SECRET },
    });
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.MAPILLARY_TEST_SECRET;
  });

  const post = (route: string, body: Record<string, unknown>) => helper.request().post(`/mapillary/auth/${route}`).send(body);
  /** A cross-site HTML form: url-encoded, no JSON. */
  const form = (route: string, body: Record<string, string>) => helper.request().post(`/mapillary/auth/${route}`).type('form').send(body);
  const leaked = () => attacker.seen.filter((r) => JSON.stringify(r).includes(SAVED_TOKEN) || JSON.stringify(r).includes(SANDBOX_CREDENTIALS.clientSecret) || JSON.stringify(r).includes(OTHER_SECRET));

  it('Check: the saved token is never sent to a Graph URL from the request (JSON or form post)', async () => {
    for (const userToken of [undefined, '', '__PWRD__']) {
      const answer = await post('check', { id: 'cfg', ...(userToken === undefined ? {} : { userToken }), graphUrl: attacker.url });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error.code, 'settings');
      assert.match(answer.body.error.message, /changed-urls/);
    }
    const forged = await form('check', { id: 'cfg', graphUrl: attacker.url });
    assert.equal(forged.status, 400);
    assert.deepEqual(attacker.seen, [], 'the attacker received nothing');
    // The same Check with the node's own address works: the token the runtime uses.
    const own = await post('check', { id: 'cfg', graphUrl: sandbox.graphUrl });
    assert.deepEqual(own.body, { username: SANDBOX_CREDENTIALS.username });
  });

  it('Check: a ${VAR} token from the runtime\'s environment is held too', async () => {
    process.env.MAPILLARY_TEST_SECRET = SAVED_TOKEN;
    const answer = await post('check', { id: 'cfg', userToken: '${MAPILLARY_TEST_SECRET}', graphUrl: attacker.url });
    assert.equal(answer.status, 400);
    const fresh = await post('check', { id: 'not-deployed', userToken: '${MAPILLARY_TEST_SECRET}', graphUrl: attacker.url });
    assert.equal(fresh.status, 400, 'a node not deployed may send held credentials to Mapillary only');
    assert.deepEqual(leaked(), []);
    assert.deepEqual(attacker.seen, []);
  });

  it('Check: a token typed in the request may go to the request\'s address (it is the requester\'s own)', async () => {
    const answer = await post('check', { id: 'cfg', userToken: 'typed-by-the-requester', graphUrl: attacker.url });
    assert.deepEqual(answer.body, { username: 'attacker' });
    assert.equal(attacker.seen.length, 1);
    assert.equal(attacker.seen[0]!.headers.authorization, 'OAuth typed-by-the-requester');
    assert.deepEqual(leaked(), []);
  });

  it('Check and Authenticate refuse ids of nodes that are not Mapillary configurations', async () => {
    for (const id of ['other', 'n1', '../cfg', 'x'.repeat(100), 42, { id: 'cfg' }]) {
      const checked = await post('check', { id, graphUrl: attacker.url });
      assert.equal(checked.status, 400, `check ${JSON.stringify(id)}`);
      const started = await post('start', { id, apiVersion: 'v4', callbackUrl, tokenUrl: `${attacker.url}/token`, graphUrl: attacker.url });
      assert.equal(started.status, 400, `start ${JSON.stringify(id)}`);
      assert.equal(started.body.error.code, 'settings');
    }
    assert.deepEqual(attacker.seen, []);
  });

  it('Authenticate: the saved client secret is never sent to a token URL from the request', async () => {
    for (const urls of [{ tokenUrl: `${attacker.url}/token` }, { graphUrl: attacker.url }, { tokenUrl: `${attacker.url}/token`, graphUrl: attacker.url }]) {
      const answer = await post('start', {
        id: 'cfg', apiVersion: 'v4', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl,
        graphUrl: sandbox.graphUrl, tokenUrl: sandbox.tokenUrl, authorizeUrl: sandbox.authorizeUrl, ...urls,
      });
      assert.equal(answer.status, 400, JSON.stringify(urls));
      assert.match(answer.body.error.message, /changed-urls/);
    }
    const forged = await form('start', { id: 'cfg', callbackUrl, tokenUrl: `${attacker.url}/token`, graphUrl: attacker.url, authorizeUrl: sandbox.authorizeUrl });
    assert.equal(forged.status, 400);
    assert.deepEqual(attacker.seen, []);
  });

  it('Authenticate: with the node\'s own addresses the saved secret goes to the sandbox only', async () => {
    const { authorizeUrl } = (await post('start', {
      id: 'cfg', apiVersion: 'v4', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl,
      graphUrl: sandbox.graphUrl, tokenUrl: sandbox.tokenUrl, authorizeUrl: sandbox.authorizeUrl,
    })).body;
    sandbox.resetLog();
    const redirect = await decide(authorizeUrl, 'approve');
    assert.match((await helper.request().get(`/mapillary/auth/callback?${redirect.search.slice(1)}`)).text, /done-user/);
    const exchange = sandbox.requests.find((r) => r.url.startsWith('/graph/token'));
    assert.equal(exchange?.headers.authorization, `OAuth ${SANDBOX_CREDENTIALS.clientSecret}`);
    assert.deepEqual(attacker.seen, []);
  });

  it('Authenticate: a secret typed in the request may go to the request\'s token URL, and nothing held goes with it', async () => {
    const { authorizeUrl } = (await post('start', {
      id: 'cfg', apiVersion: 'v4', clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: 'typed-secret', callbackUrl,
      graphUrl: attacker.url, tokenUrl: `${attacker.url}/token`, authorizeUrl: sandbox.authorizeUrl,
    })).body;
    const redirect = await decide(authorizeUrl, 'approve');
    await helper.request().get(`/mapillary/auth/callback?${redirect.search.slice(1)}`);
    const exchange = attacker.seen.find((r) => r.url.startsWith('/token'));
    assert.equal(exchange?.headers.authorization, 'OAuth typed-secret');
    assert.deepEqual(leaked(), []);
  });

  it('the v3 hand-over route cannot spoil a v4 sign-in', async () => {
    const { state, authorizeUrl } = (await post('start', {
      id: 'cfg', apiVersion: 'v4', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl,
      graphUrl: sandbox.graphUrl, tokenUrl: sandbox.tokenUrl, authorizeUrl: sandbox.authorizeUrl,
    })).body;
    const spoiler = await post('implicit', { state, access_token: 'planted-token' });
    assert.equal(spoiler.status, 400);
    assert.equal((await helper.request().get(`/mapillary/auth/status?state=${state}`)).body.status, 'pending');
    const redirect = await decide(authorizeUrl, 'approve');
    assert.match((await helper.request().get(`/mapillary/auth/callback?${redirect.search.slice(1)}`)).text, /done-user/, 'the real sign-in still completes');
    assert.notEqual((helper.credentials.get('cfg') as Record<string, string>).userToken, 'planted-token');
  });

  it('Check tests the token the runtime uses: a kept one after Authenticate, before any Deploy', async () => {
    const { authorizeUrl } = (await post('start', {
      id: 'cfg', apiVersion: 'v4', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl,
      graphUrl: sandbox.graphUrl, tokenUrl: sandbox.tokenUrl, authorizeUrl: sandbox.authorizeUrl,
    })).body;
    const redirect = await decide(authorizeUrl, 'approve');
    await helper.request().get(`/mapillary/auth/callback?${redirect.search.slice(1)}`);
    const issued = (helper.credentials.get('cfg') as Record<string, string>).userToken;
    assert.notEqual(issued, SAVED_TOKEN);
    sandbox.resetLog();
    const answer = await post('check', { id: 'cfg', userToken: '', graphUrl: sandbox.graphUrl });
    assert.deepEqual(answer.body, { username: SANDBOX_CREDENTIALS.username });
    assert.equal(sandbox.requests[0]!.headers.authorization, `OAuth ${issued}`, 'the token in use, not the one saved before');
  });

  it('before its first Deploy, a new config node\'s token goes back only to the addresses it came from', async () => {
    const { authorizeUrl } = (await post('start', {
      id: 'new-cfg', apiVersion: 'v4', clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret, callbackUrl,
      graphUrl: sandbox.graphUrl, tokenUrl: sandbox.tokenUrl, authorizeUrl: sandbox.authorizeUrl,
    })).body;
    const redirect = await decide(authorizeUrl, 'approve');
    await helper.request().get(`/mapillary/auth/callback?${redirect.search.slice(1)}`);
    const issued = (helper.credentials.get('new-cfg') as Record<string, string>).userToken!;
    const own = await post('check', { id: 'new-cfg', userToken: '', graphUrl: sandbox.graphUrl });
    assert.deepEqual(own.body, { username: SANDBOX_CREDENTIALS.username });
    const elsewhere = await post('check', { id: 'new-cfg', userToken: '', graphUrl: attacker.url });
    assert.equal(elsewhere.status, 400);
    assert.ok(!JSON.stringify(attacker.seen).includes(issued));
    assert.deepEqual(attacker.seen, []);
  });
});
