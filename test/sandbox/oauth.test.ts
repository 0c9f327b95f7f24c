/**
 * The sandbox's OAuth across restarts: user tokens are stateless (`MLYARsandbox<expiry>.<random>.
 * <HMAC-SHA256>` with a fixed sandbox key), so a token issued by one sandbox is accepted by the
 * next one (`npm start` starts a new sandbox each time), while a tampered or expired token is
 * refused. Also: the consent pages send `Cross-Origin-Opener-Policy: same-origin`, as large sites do.
 */
import assert from 'node:assert/strict';
import { AREAS, SANDBOX_CREDENTIALS as CREDS } from '../../sandbox/data';
import { issuedTokenExpiry, issueToken } from '../../sandbox/oauth';
import { type Sandbox, startSandbox } from '../../sandbox/server';

const CALLBACK = 'http://127.0.0.1:9/callback';

/** The consent page, Approve, the code from the redirect, the code exchanged: the granted token. */
async function signIn(sandbox: Sandbox): Promise<{ access_token: string; expires_in: number }> {
  const query = new URLSearchParams({ client_id: CREDS.clientId, response_type: 'code', scope: 'read', state: 's', redirect_uri: CALLBACK });
  const html = await (await fetch(`${sandbox.authorizeUrl}?${query}`)).text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const answer = await fetch(`${sandbox.origin}/connect/decision`, { method: 'POST', body: new URLSearchParams({ request, decision: 'approve' }), redirect: 'manual' });
  const code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
  const granted = await fetch(sandbox.tokenUrl, {
    method: 'POST', headers: { Authorization: `OAuth ${CREDS.clientSecret}` }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CREDS.clientId, code }),
  });
  assert.equal(granted.status, 200);
  return (await granted.json()) as { access_token: string; expires_in: number };
}

/** GET /me with `token`: the HTTP status and, when 200, the username. */
async function me(sandbox: Sandbox, token: string): Promise<{ status: number; username?: string; code?: number }> {
  const res = await fetch(`${sandbox.graphUrl}/me?fields=username`, { headers: { Authorization: `OAuth ${token}` } });
  const body = (await res.json()) as { username?: string; error?: { code: number } };
  return { status: res.status, username: body.username, code: body.error?.code };
}

function refresh(sandbox: Sandbox, token: string): Promise<Response> {
  return fetch(sandbox.tokenUrl, {
    method: 'POST', headers: { Authorization: `OAuth ${CREDS.clientSecret}` }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CREDS.clientId, refresh_token: token }),
  });
}

/** `token` with the character at `index` replaced by another of the same alphabet. */
function changed(token: string, index: number): string {
  const at = index < 0 ? token.length + index : index;
  const c = token[at]!;
  const other = /\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'A' ? 'B' : 'A';
  return token.slice(0, at) + other + token.slice(at + 1);
}

describe('sandbox OAuth across restarts (stateless, signed user tokens)', function () {
  this.timeout(20_000);
  const open: Sandbox[] = [];
  const start = async (options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> => {
    const sandbox = await startSandbox(options);
    open.push(sandbox);
    return sandbox;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((sandbox) => sandbox.close()));
  });

  it('a token issued by one sandbox is accepted by a new one after the first has stopped, and can be refreshed there', async () => {
    const first = await start();
    const { access_token: token, expires_in: expiresIn } = await signIn(first);
    assert.match(token, /^MLYARsandbox\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'MLYARsandbox<expiry>.<random>.<HMAC>');
    const expiry = issuedTokenExpiry(token)!;
    assert.ok(Math.abs(expiry - (Date.now() + expiresIn * 1000)) < 10_000, 'the expiry in the token is the one granted');
    assert.deepEqual(await me(first, token), { status: 200, username: CREDS.username, code: undefined });
    await first.close();
    open.splice(open.indexOf(first), 1);

    const second = await start();
    assert.notEqual(second.origin, first.origin, 'another sandbox (another port)');
    assert.deepEqual(await me(second, token), { status: 200, username: CREDS.username, code: undefined }, 'the new sandbox accepts the earlier token');
    const v3 = await fetch(`${second.v3Url}/images?client_id=${CREDS.clientId}&bbox=${AREAS.sea.join(',')}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(v3.status, 200, 'the v3 API of the new sandbox accepts it too');
    const tile = await fetch(`${second.tilesUrl}/maps/vtp/mly1_public/2/14/8800/5373?access_token=${encodeURIComponent(token)}`);
    assert.equal(tile.status, 200, 'and its tiles');

    const renewed = await refresh(second, token);
    assert.equal(renewed.status, 200, 'the new sandbox refreshes a token of the earlier one');
    const next = ((await renewed.json()) as { access_token: string }).access_token;
    assert.notEqual(next, token);
    assert.equal((await me(second, next)).status, 200);
    assert.equal((await me(second, token)).status, 200, 'the refreshed-from token stays valid until it expires, as before');
  });

  it('refuses a token with a changed expiry, random part or signature, or another key\'s signature', async () => {
    const first = await start();
    const token = (await signIn(first)).access_token;
    const second = await start();
    const [head, random, mac] = token.split('.') as [string, string, string];
    const forged = [
      changed(token, 'MLYARsandbox'.length + 2), // the expiry
      `MLYARsandbox${Number(head.slice('MLYARsandbox'.length)) + 86_400_000}.${random}.${mac}`, // a day longer, same signature
      changed(token, head.length + 3), // the random part
      changed(token, -1), // the signature's last character
      changed(token, -20),
      `${head}.${random}.${mac.slice(0, -1)}`, // a signature cut short
      `${head}.${random}.${'A'.repeat(43)}`,
      `${head}.${random}`,
      `${token}x`,
      `MLYARsandbox${random}`, // the old format, never issued by any sandbox now
    ];
    for (const bad of forged) {
      assert.notEqual(bad, token);
      assert.equal(issuedTokenExpiry(bad), undefined, bad);
      for (const sandbox of [first, second]) {
        assert.deepEqual(await me(sandbox, bad), { status: 401, username: undefined, code: 190 }, `GET /me with ${bad}`);
        assert.equal((await refresh(sandbox, bad)).status, 400, `refresh with ${bad}`);
      }
      const tile = await fetch(`${second.tilesUrl}/maps/vtp/mly1_public/2/14/8800/5373?access_token=${encodeURIComponent(bad)}`);
      assert.equal(tile.status, 403, `a tile with ${bad}`);
    }
    assert.equal((await me(second, token)).status, 200, 'the genuine token still works');
  });

  it('refuses an expired token, however it was signed, in every sandbox', async () => {
    const past = issueToken(Date.now() - 1000);
    assert.ok(issuedTokenExpiry(past)! < Date.now(), 'well signed, expired');
    const sandbox = await start({ tokenExpiresIn: 1 });
    assert.deepEqual(await me(sandbox, past), { status: 401, username: undefined, code: 190 });
    assert.equal((await refresh(sandbox, past)).status, 400, 'an expired token cannot be refreshed');

    const short = (await signIn(sandbox)).access_token;
    assert.equal((await me(sandbox, short)).status, 200, 'valid for its one second');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await me(sandbox, short)).status, 401, 'refused once its second is over');
    const next = await start();
    assert.equal((await me(next, short)).status, 401, 'and by a new sandbox');
    assert.equal((await me(next, issueToken(Date.now() + 60_000))).status, 200, 'a token signed with the sandbox key and not expired is accepted');
  });

  it('the consent page and its error pages send Cross-Origin-Opener-Policy: same-origin', async () => {
    const sandbox = await start({ registeredRedirectUri: CALLBACK });
    const consent = await fetch(`${sandbox.authorizeUrl}?${new URLSearchParams({ client_id: CREDS.clientId, response_type: 'code', state: 's', redirect_uri: CALLBACK })}`);
    assert.equal(consent.status, 200);
    assert.equal(consent.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.match(await consent.text(), /id="approve"/);
    const wrong = await fetch(`${sandbox.authorizeUrl}?${new URLSearchParams({ client_id: CREDS.clientId, response_type: 'code', redirect_uri: 'http://evil.example/cb' })}`);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.headers.get('cross-origin-opener-policy'), 'same-origin');
    const used = await fetch(`${sandbox.origin}/connect/decision`, { method: 'POST', body: new URLSearchParams({ request: 'unknown', decision: 'approve' }) });
    assert.equal(used.status, 400);
    assert.equal(used.headers.get('cross-origin-opener-policy'), 'same-origin');
  });
});
