import assert from 'node:assert/strict';
import { needsRefresh } from '../../src/auth/oauth';
import { MapillaryClient } from '../../src/client';
import { SANDBOX_CREDENTIALS } from '../../sandbox/data';
import { decide } from '../../sandbox/approve';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { useSandbox } from '../support';
import { requestsTo, sandboxClient } from './setup';

describe('OAuth helpers against the sandbox', () => {
  const sandbox = useSandbox();

  it('builds the v4 code-flow and v3 implicit-flow authorize URLs', async () => {
    const client = sandboxClient(sandbox);
    const v4 = new URL(client.authorizeUrl({ redirectUri: 'http://127.0.0.1:1880/mapillary/callback', state: 's1' }));
    assert.equal(v4.origin + v4.pathname, sandbox.authorizeUrl);
    assert.deepEqual(Object.fromEntries(v4.searchParams), {
      client_id: '4242', response_type: 'code', scope: 'read', state: 's1', redirect_uri: 'http://127.0.0.1:1880/mapillary/callback',
    });
    const v3 = new URL(client.authorizeUrl({ redirectUri: 'http://x/cb', state: 's2', apiVersion: 'v3' }));
    assert.equal(v3.searchParams.get('response_type'), 'token');
    assert.equal(v3.searchParams.get('scope'), 'private:read');
    await client.close();
  });

  it('exchanges a code, uses the user token, refreshes it; the secret travels only in a POST header', async () => {
    const client = sandboxClient(sandbox);
    try {
      const redirect = await decide(client.authorizeUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 'xyz' }));
      assert.equal(redirect.searchParams.get('state'), 'xyz');
      const code = redirect.searchParams.get('code')!;
      const tokens = await client.exchangeCode(code, 'http://127.0.0.1:9/cb');
      assert.ok(tokens.accessToken.length > 10);
      assert.equal(tokens.tokenType, 'bearer');
      assert.ok(tokens.expiresAt! > Date.now() + 24 * 3600 * 1000);
      assert.equal(client.hasUserToken, true);
      assert.deepEqual(await client.me(), { id: (await client.me()).id, username: SANDBOX_CREDENTIALS.username });

      const refreshed = await client.refreshUserToken();
      assert.notEqual(refreshed.accessToken, tokens.accessToken);
      assert.equal((await client.me()).username, SANDBOX_CREDENTIALS.username);

      const posts = requestsTo(sandbox, '/token');
      assert.equal(posts.length, 2);
      for (const post of posts) {
        assert.equal(post.method, 'POST');
        assert.equal(post.headers.authorization, `OAuth ${SANDBOX_CREDENTIALS.clientSecret}`);
        assert.ok(!post.url.includes('secret') && !post.url.includes('MLY'));
      }
      assert.ok(sandbox.requests.every((r) => !r.url.includes(encodeURIComponent(SANDBOX_CREDENTIALS.clientSecret)) && !r.url.includes(SANDBOX_CREDENTIALS.clientSecret)));
      assert.equal(new URLSearchParams(posts[0]!.body).get('grant_type'), 'authorization_code');
      assert.equal(new URLSearchParams(posts[1]!.body).get('refresh_token'), tokens.accessToken);
    } finally {
      await client.close();
    }
  });

  it('does not retry the token POST when the server answered, and reports a wrong secret as MAPILLARY_AUTH', async () => {
    const client = sandboxClient(sandbox, { clientSecret: 'MLY|4242|wrong-secret' });
    try {
      sandbox.resetLog();
      await assert.rejects(client.exchangeCode('whatever'), { code: 'MAPILLARY_AUTH' });
      sandbox.inject({ kind: '5xx', path: '/token' });
      await assert.rejects(client.exchangeCode('whatever'), { code: 'MAPILLARY_HTTP' });
      assert.equal(requestsTo(sandbox, '/token').length, 2, 'one POST each, no retry');
    } finally {
      await client.close();
    }
  });

  it('a used code is refused', async () => {
    const client = sandboxClient(sandbox);
    try {
      const redirect = await decide(client.authorizeUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 'a' }));
      const code = redirect.searchParams.get('code')!;
      await client.exchangeCode(code);
      const second = new MapillaryClient(sandboxOptions(sandbox));
      await assert.rejects(second.exchangeCode(code), { code: 'MAPILLARY_BAD_REQUEST' });
      await second.close();
    } finally {
      await client.close();
    }
  });

  it('refreshes a user token close to expiry before use, once for concurrent calls, and reports it', async () => {
    const shortLived = await startSandbox({ tokenExpiresIn: 3600 });
    const seen: string[] = [];
    const client = sandboxClient(shortLived, { onUserToken: (t) => void seen.push(t.accessToken) });
    try {
      const redirect = await decide(client.authorizeUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's' }));
      const first = await client.exchangeCode(redirect.searchParams.get('code')!);
      assert.ok(first.expiresAt! - Date.now() <= 3600_000, 'an hour: inside the 7-day refresh margin');
      shortLived.resetLog();
      await Promise.all([client.me(), client.me(), client.me()]);
      assert.equal(requestsTo(shortLived, '/token').length, 1, 'one refresh for three calls');
      assert.equal(seen.length, 2, 'told of the exchanged and of the refreshed token');
      assert.notEqual(seen[1], first.accessToken);
      for (const r of requestsTo(shortLived, '/me')) assert.equal(r.headers.authorization, `OAuth ${seen[1]}`);
    } finally {
      await client.close();
      await shortLived.close();
    }
  });

  it('refreshes once when the API rejects the user token with code 190, then retries', async () => {
    const seen: string[] = [];
    const client = sandboxClient(sandbox, { onUserToken: (t) => void seen.push(t.accessToken) });
    try {
      const redirect = await decide(client.authorizeUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's' }));
      await client.exchangeCode(redirect.searchParams.get('code')!);
      sandbox.resetLog();
      sandbox.inject({ kind: '401-190', path: '/me' });
      assert.equal((await client.me()).username, SANDBOX_CREDENTIALS.username);
      assert.deepEqual(sandbox.requests.map((r) => `${r.method} ${new URL(r.url, sandbox.origin).pathname}`), ['GET /graph/me', 'POST /graph/token', 'GET /graph/me']);
      assert.equal(seen.length, 2);

      sandbox.resetLog();
      sandbox.inject({ kind: '401-190', path: '/me', times: 2 });
      await assert.rejects(client.me(), { code: 'MAPILLARY_AUTH' });
      assert.equal(requestsTo(sandbox, '/token').length, 1, 'only once per call');
    } finally {
      await client.close();
    }
  });

  it('after a failed refresh, does not try again for every request', async () => {
    const client = sandboxClient(sandbox, {
      clientSecret: 'MLY|4242|rotated-secret', userToken: SANDBOX_CREDENTIALS.userToken, userTokenExpiresAt: Date.now() + 3600_000,
    });
    try {
      sandbox.resetLog();
      for (let i = 0; i < 3; i++) assert.equal((await client.me()).username, SANDBOX_CREDENTIALS.username, 'the current token still works');
      sandbox.inject({ kind: '401-190', path: '/me' });
      await assert.rejects(client.me(), { code: 'MAPILLARY_AUTH' });
      assert.equal(requestsTo(sandbox, '/token').length, 1, 'one failed refresh, then a cool-down');
      assert.equal(requestsTo(sandbox, '/me').length, 4);
    } finally {
      await client.close();
    }
  });

  it('does not try to refresh a client token or without the secret', async () => {
    const client = sandboxClient(sandbox, { clientSecret: undefined, userToken: SANDBOX_CREDENTIALS.userToken, userTokenExpiresAt: Date.now() + 1000 });
    try {
      sandbox.resetLog();
      sandbox.inject({ kind: '401-190', path: '/me' });
      await assert.rejects(client.me(), { code: 'MAPILLARY_AUTH' });
      assert.equal(requestsTo(sandbox, '/token').length, 0);
    } finally {
      await client.close();
    }
  });

  it('says when a token is due for refresh', () => {
    const now = Date.parse('2026-11-24T00:00:00Z');
    assert.equal(needsRefresh(undefined, now), false);
    assert.equal(needsRefresh(now + 30 * 86400_000, now), false);
    assert.equal(needsRefresh(now + 6 * 86400_000, now), true);
    assert.equal(needsRefresh(now - 1, now), true);
  });
});

function sandboxOptions(sandbox: Sandbox) {
  return {
    clientId: SANDBOX_CREDENTIALS.clientId,
    clientSecret: SANDBOX_CREDENTIALS.clientSecret,
    baseUrls: { graph: sandbox.graphUrl, token: sandbox.tokenUrl, authorize: sandbox.authorizeUrl },
  };
}
