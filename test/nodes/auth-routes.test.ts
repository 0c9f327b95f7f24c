import assert from 'node:assert/strict';
import { AREAS, SANDBOX_CREDENTIALS } from '../../sandbox/data';
import { decide } from '../../sandbox/approve';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, useNodeRed } from './setup';

describe(`Authenticate routes of mapillary-config in Node-RED ${runtimeVersion}`, function () {
  this.timeout(30_000);
  const sandbox = useSandbox();
  useNodeRed();
  const callbackUrl = 'http://127.0.0.1:1880/mapillary/auth/callback';

  async function load(credentials: Record<string, string> = {}) {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: [AREAS.sea[0], AREAS.sea[1], AREAS.sea[0] + 0.05, AREAS.sea[1] + 0.05].join(','), wires: [['out'], ['done']] },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], { cfg: { ...config.credentials.cfg, ...credentials } });
    return config.node;
  }

  function start(body: Record<string, unknown>) {
    const config = sandboxConfig(sandbox).node;
    return helper.request().post('/mapillary/auth/start').send({
      id: 'cfg', apiVersion: 'v4', clientId: '__PWRD__', clientSecret: '__PWRD__', callbackUrl,
      graphUrl: config.graphUrl, authorizeUrl: config.authorizeUrl, tokenUrl: config.tokenUrl, ...body,
    });
  }

  const callback = (query: string) => helper.request().get(`/mapillary/auth/callback?${query}`);
  const status = async (state: string) => (await helper.request().get(`/mapillary/auth/status?state=${encodeURIComponent(state)}`)).body;

  it('v4: start → approve → callback stores the token on the running node; status tells the user, never the token', async () => {
    await load();
    const started = await start({});
    assert.equal(started.status, 200);
    const { state, authorizeUrl } = started.body;
    assert.ok(typeof state === 'string' && state.length >= 32);
    const url = new URL(authorizeUrl);
    assert.deepEqual([url.searchParams.get('client_id'), url.searchParams.get('response_type'), url.searchParams.get('state'), url.searchParams.get('redirect_uri')],
      [SANDBOX_CREDENTIALS.clientId, 'code', state, callbackUrl]);
    assert.ok(!authorizeUrl.includes('secret'), 'the client secret is never in a URL');
    assert.deepEqual(await status(state), { status: 'pending' });

    const redirect = await decide(authorizeUrl, 'approve');
    const done = await callback(redirect.search.slice(1));
    assert.equal(done.status, 200);
    assert.match(done.text, /mapillary-config\.auth\.page\.done-user/);
    assert.match(done.headers['cache-control'], /no-store/);

    const saved = helper.credentials.get('cfg') as Record<string, string>;
    assert.ok(saved.userToken && saved.userToken !== SANDBOX_CREDENTIALS.userToken);
    assert.ok(!done.text.includes(saved.userToken), 'the page does not show the token');
    const told = await status(state);
    assert.deepEqual(told, { status: 'done', username: SANDBOX_CREDENTIALS.username });

    sandbox.resetLog();
    const run = collect();
    helper.getNode('n1').receive({});
    await run;
    assert.equal(sandbox.requests[0]!.headers.authorization, `OAuth ${saved.userToken}`, 'the running node uses the new token without a redeploy');
  });

  it('a state is single-use, bound to its node, and expires', async () => {
    await load();
    const { state, authorizeUrl } = (await start({})).body;
    const redirect = await decide(authorizeUrl, 'approve');
    assert.match((await callback(redirect.search.slice(1))).text, /done-user/);
    const again = await callback(redirect.search.slice(1));
    assert.match(again.text, /errors\.state/, 'the same state a second time is refused');

    const unknown = await callback(`code=x&state=${'a'.repeat(32)}`);
    assert.match(unknown.text, /errors\.state/);
    assert.deepEqual((await status('nope')).error.code, 'state');

    const late = (await start({})).body;
    const realNow = Date.now;
    Date.now = () => realNow() + 11 * 60 * 1000;
    try {
      const answer = await callback(`code=whatever&state=${late.state}`);
      assert.match(answer.text, /errors\.state/, 'after ten minutes the state has expired');
    } finally {
      Date.now = realNow;
    }
    assert.equal(state.length, late.state.length);
  });

  it('reports a denial, a wrong secret and missing settings in plain words (by code)', async () => {
    await load();
    let { state, authorizeUrl } = (await start({})).body;
    const denied = await decide(authorizeUrl, 'deny');
    assert.equal(denied.searchParams.get('error'), 'user_denied');
    assert.match((await callback(denied.search.slice(1))).text, /errors\.denied/);
    assert.equal((await status(state)).error.code, 'denied');

    ({ state, authorizeUrl } = (await start({ clientSecret: 'MLY|4242|wrong-secret' })).body);
    const approved = await decide(authorizeUrl, 'approve');
    assert.match((await callback(approved.search.slice(1))).text, /errors\.secret/);
    assert.equal((await status(state)).error.code, 'secret');

    const noId = await start({ clientId: '', id: 'unknown-node' });
    assert.equal(noId.status, 400);
    assert.equal(noId.body.error.code, 'settings');
    const badCallback = await start({ callbackUrl: 'javascript:alert(1)' });
    assert.equal(badCallback.status, 400);
  });

  it('works for a config node that was never deployed (credentials from the dialog)', async () => {
    await load();
    const { authorizeUrl } = (await start({ id: 'fresh-cfg', clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret })).body;
    const redirect = await decide(authorizeUrl, 'approve');
    assert.match((await callback(redirect.search.slice(1))).text, /done-user/);
    const saved = helper.credentials.get('fresh-cfg') as Record<string, string>;
    assert.ok(saved.userToken);
    assert.match(saved.userTokenExpiresAt!, /^\d+:[0-9a-f]{16}$/);
  });

  it('v3: the implicit flow hands the fragment token over with the state', async () => {
    await load();
    const { state, authorizeUrl } = (await start({ apiVersion: 'v3' })).body;
    assert.equal(new URL(authorizeUrl).searchParams.get('response_type'), 'token');
    const redirect = await decide(authorizeUrl, 'approve');
    const fragment = new URLSearchParams(redirect.hash.slice(1));
    assert.ok(fragment.get('access_token'));
    const pageHtml = (await callback('')).text;
    assert.match(pageHtml, /location\.hash/, 'the page reads the fragment in the browser');
    const handed = await helper.request().post('/mapillary/auth/implicit').send({
      state: fragment.get('state'), access_token: fragment.get('access_token'), expires_in: fragment.get('expires_in'),
    });
    assert.equal(handed.body.ok, true);
    assert.equal((helper.credentials.get('cfg') as Record<string, string>).userToken, fragment.get('access_token'));
    assert.equal((await status(state)).status, 'done');
    const replay = await helper.request().post('/mapillary/auth/implicit').send({ state, access_token: 'other' });
    assert.equal(replay.status, 400);
  });

  it('Check calls /me with a typed or a saved token and says who it is, or why not', async () => {
    await load({ userToken: SANDBOX_CREDENTIALS.userToken });
    const config = sandboxConfig(sandbox).node;
    const typed = await helper.request().post('/mapillary/auth/check').send({ id: 'cfg', userToken: SANDBOX_CREDENTIALS.userToken, graphUrl: config.graphUrl });
    assert.deepEqual(typed.body, { username: SANDBOX_CREDENTIALS.username });
    const saved = await helper.request().post('/mapillary/auth/check').send({ id: 'cfg', userToken: '__PWRD__', graphUrl: config.graphUrl });
    assert.deepEqual(saved.body, { username: SANDBOX_CREDENTIALS.username });
    const wrong = await helper.request().post('/mapillary/auth/check').send({ id: 'cfg', userToken: 'MLY|4242|nope', graphUrl: config.graphUrl });
    assert.equal(wrong.body.error.code, 'token');
    assert.ok(!JSON.stringify(wrong.body).includes('nope'));
    const unreachable = await helper.request().post('/mapillary/auth/check').send({ id: 'cfg', userToken: 'x', graphUrl: 'http://127.0.0.1:9' });
    assert.equal(unreachable.body.error.code, 'network');
  });
});
