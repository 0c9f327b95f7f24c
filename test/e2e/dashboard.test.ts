/**
 * Example 10, the city dashboard, in a real browser: FlowFuse Dashboard 2 and the world map
 * (both dev dependencies, linked into the user directory as a user installs them from the
 * palette) in a Node-RED process on 4.1 and on 5 (Node 24), against the sandbox. The dashboard
 * loads; the map in its frame shows one marker per traffic sign of the district; the count and
 * the table by class match the sandbox's ground truth; the six latest images of the street are
 * thumbnails that loaded; "Harvest again" harvests again without piling up markers.
 * Screenshots go to .test-output/screenshots (Node-RED 4.1's to docs/images with UPDATE_SCREENSHOTS=1).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { world } from '../../sandbox/data';
import {
  deployFlows, flowsOf, freePort, linkedUserDir, loadExamples, nodeRedDir, nodeRedEnv, nodeRedScript, PROJECT_ROOT, settingsSource,
} from '../../scripts/node-red-home';
import { useSandbox } from '../support';
import { ensureChromium, ensureNode24, launchBrowser } from './browser';
import { NodeRedProcess } from './harness';

const OUTPUT = join(PROJECT_ROOT, '.test-output', 'screenshots');
/** Node-RED 4.1's screenshot is the README's with UPDATE_SCREENSHOTS=1. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(PROJECT_ROOT, 'docs', 'images') : OUTPUT;
const version = (pkg: 'node-red' | 'node-red-5'): string => (JSON.parse(readFileSync(join(nodeRedDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
const RUNTIMES = [
  { title: `Node-RED ${version('node-red')}`, pkg: 'node-red' as const, node: () => process.execPath, screenshots: SCREENSHOTS, screenshot: 'dashboard.png' },
  { title: `Node-RED ${version('node-red-5')} on Node 24`, pkg: 'node-red-5' as const, node: ensureNode24, screenshots: OUTPUT, screenshot: 'dashboard-node-red-5.png' },
];
/** The contrib packages the example uses, as a user installs them. */
const CONTRIB = ['@flowfuse/node-red-dashboard', 'node-red-contrib-web-worldmap'];

describe('example 10, the city dashboard, in Chromium (FlowFuse Dashboard 2, world map)', function () {
  this.timeout(180_000);
  const sandbox = useSandbox();
  const example = loadExamples().find((e) => e.name.startsWith('10'))!;
  const bbox = (id: string) => String(example.nodes.find((n) => n.id === id)!.bbox).split(',').map(Number) as [number, number, number, number];
  const signs = world.mapFeaturesIn(bbox('ex10-signs')).filter((f) => /^(regulatory|warning)--/.test(f.object_value));
  const byClass = new Map<string, number>();
  for (const sign of signs) byClass.set(sign.object_value, (byClass.get(sign.object_value) ?? 0) + 1);

  before(() => ensureChromium());

  for (const runtime of RUNTIMES) {
    describe(runtime.title, function () {
      let home = '';
      let nodeRed: NodeRedProcess | undefined;
      let context: BrowserContext | undefined;
      let page: Page;
      let url = '';

      before(async function () {
        this.timeout(120_000);
        const nodeBinary = runtime.node();
        home = mkdtempSync(join(tmpdir(), 'mapillary-dashboard-'));
        const userDir = join(home, 'user');
        linkedUserDir(userDir, 'dashboard-test', CONTRIB);
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        writeFileSync(join(userDir, 'settings.js'), settingsSource({ uiPort: port, credentialSecret: 'dashboard-test', logLevel: 'warn' }));
        nodeRed = await NodeRedProcess.start({ userDir, port, cwd: userDir, env: nodeRedEnv(process.env, sandbox), execPath: nodeBinary, script: nodeRedScript(runtime.pkg) }, url);
        await deployFlows(url, flowsOf([example]));
        context = await launchBrowser(home);
        page = await context.newPage();
      });

      after(async function () {
        this.timeout(60_000);
        await context?.close().catch(() => undefined);
        await nodeRed?.stop(10_000);
        if (home) rmSync(home, { recursive: true, force: true });
      });

      const mapFrame = async (): Promise<Frame> => {
        for (let i = 0; i < 200; i++) {
          const frame = page.frames().find((f) => new URL(f.url(), url).pathname.startsWith('/worldmap'));
          if (frame) return frame;
          await page.waitForTimeout(100);
        }
        throw new Error('no world map frame in the dashboard');
      };
      /** Waits until `read` gives `expected` (or throws with what it gave last). */
      const until = async <T>(read: () => Promise<T>, expected: T, what: string): Promise<void> => {
        let last: T | undefined;
        for (let i = 0; i < 300; i++) {
          last = await read().catch(() => undefined);
          if (JSON.stringify(last) === JSON.stringify(expected)) return;
          await page.waitForTimeout(100);
        }
        assert.fail(`${what}: ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}\n${nodeRed?.log}`);
      };

      it('shows every sign of the district on the map, their count and classes, and the six latest images', async () => {
        assert.ok(signs.length > 100, `${signs.length} signs in the district`);
        await page.goto(`${url}/dashboard/signs`);
        const frame = await mapFrame();
        await until(() => frame.locator('.leaflet-marker-icon').count(), signs.length, 'markers on the map');
        await until(() => page.locator('.mapillary-sign-count').innerText().then((t) => t.replace(/\D+/g, '')), String(signs.length), 'the count');
        const rows = await page.locator('.mapillary-sign-classes tbody tr').allInnerTexts();
        const table = new Map(rows.map((row) => {
          const [name, count] = row.split(/\t|\n/).map((cell) => cell.trim()).filter(Boolean);
          return [name!, Number(count)] as const;
        }));
        assert.deepEqual([...table].sort(), [...byClass].sort(), 'the table by class');
        await until(() => page.locator('.mapillary-thumbs img').evaluateAll((images) => images.filter((i) => (i as HTMLImageElement).naturalWidth === 256).length), 6, 'thumbnails loaded');
        await until(() => page.locator('.mapillary-last-harvest').innerText().then((t) => t.includes(`${signs.length} signs`)), true, 'the last harvest');
        mkdirSync(runtime.screenshots, { recursive: true });
        await page.screenshot({ path: join(runtime.screenshots, runtime.screenshot) });
      });

      it('"Harvest again" harvests again: the markers are moved, not piled up', async () => {
        const before = sandbox.requests.filter((r) => r.url.startsWith('/graph/map_features')).length;
        await page.getByRole('button', { name: /Harvest again/ }).click();
        await until(async () => sandbox.requests.filter((r) => r.url.startsWith('/graph/map_features')).length > before, true, 'a new harvest');
        await until(() => page.locator('.mapillary-progress').innerText().then((t) => /done/.test(t)), true, 'the progress');
        const frame = await mapFrame();
        await page.waitForTimeout(500);
        assert.equal(await frame.locator('.leaflet-marker-icon').count(), signs.length);
        assert.deepEqual(nodeRed!.errorLines(), []);
      });
    });
  }
});
