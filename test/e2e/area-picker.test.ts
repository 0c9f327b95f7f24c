/**
 * The area picker in the editor, in Chromium, on Node-RED 4.1 and 5 (Node 24): in the images
 * node's dialog, the map button opens a map (Leaflet and Leaflet-Geoman from the package, no
 * CDN; no basemap here: the machine is offline), a box drawn on it fills the Area field, Done
 * and Deploy save it, and the harvest then asks only for that area. A polygon drawn instead is
 * saved as GeoJSON and harvested as a shape. Screenshots go to .test-output/screenshots (Node-RED
 * 4.1's to docs/images with UPDATE_SCREENSHOTS=1).
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { AREAS, world } from '../../sandbox/data';
import {
  deployFlows, type FlowNode, freePort, http, linkedUserDir, nodeRedDir, nodeRedEnv, nodeRedScript, PROJECT_ROOT, pressInject, settingsSource,
} from '../../scripts/node-red-home';
import { useSandbox } from '../support';
import { ensureChromium, ensureNode24, launchBrowser, openEditor, openNode, pressDeploy } from './browser';
import { NodeRedProcess } from './harness';

type Box = { x: number; y: number; width: number; height: number };
const version = (pkg: 'node-red' | 'node-red-5'): string => (JSON.parse(readFileSync(join(nodeRedDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
const OUTPUT = join(PROJECT_ROOT, '.test-output', 'screenshots');
/** Node-RED 4.1's screenshot is the README's with UPDATE_SCREENSHOTS=1. */
const RUNTIMES = [
  { title: `Node-RED ${version('node-red')}`, pkg: 'node-red' as const, node: () => process.execPath, screenshots: process.env.UPDATE_SCREENSHOTS === '1' ? join(PROJECT_ROOT, 'docs', 'images') : OUTPUT, screenshot: 'area-picker.png' },
  { title: `Node-RED ${version('node-red-5')} on Node 24`, pkg: 'node-red-5' as const, node: ensureNode24, screenshots: OUTPUT, screenshot: 'area-picker-node-red-5.png' },
];

describe('the area picker in the editor (Chromium): draw, save, deploy, harvest', function () {
  this.timeout(180_000);
  const sandbox = useSandbox();
  before(() => ensureChromium());

  for (const runtime of RUNTIMES) {
    describe(runtime.title, function () {
      let home = '';
      let summaries = '';
      let nodeRed: NodeRedProcess | undefined;
      let context: BrowserContext | undefined;
      let page: Page;
      let url = '';

      before(async function () {
        this.timeout(120_000);
        home = mkdtempSync(join(tmpdir(), 'mapillary-picker-'));
        const userDir = join(home, 'user');
        linkedUserDir(userDir, 'picker-test');
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        summaries = join(home, 'summaries.txt');
        writeFileSync(join(userDir, 'settings.js'), `${settingsSource({ uiPort: port, credentialSecret: 'picker-test', logLevel: 'warn' })}module.exports.functionGlobalContext = { fs: require('fs') };\n`);
        nodeRed = await NodeRedProcess.start({ userDir, port, cwd: userDir, env: nodeRedEnv(process.env, sandbox), execPath: runtime.node(), script: nodeRedScript(runtime.pkg) }, url);
        const flow: FlowNode[] = [
          { id: 'picker-tab', type: 'tab', label: 'picker' },
          { id: 'picker-config', type: 'mapillary-config', name: 'sandbox', apiVersion: 'v4', graphUrl: '${MAPILLARY_GRAPH_URL}', tilesUrl: '${MAPILLARY_TILES_URL}', timeout: 30, concurrency: 8, requestsPerMinute: 0, credentials: { clientToken: '${MAPILLARY_CLIENT_TOKEN}' } },
          { id: 'picker-go', type: 'inject', z: 'picker-tab', name: '', props: [{ p: 'payload' }], payload: '', payloadType: 'str', repeat: '', once: false, x: 100, y: 80, wires: [['picker-images']] },
          { id: 'picker-images', type: 'mapillary-images', z: 'picker-tab', name: '', mapillary: 'picker-config', bbox: AREAS.suburb.join(','), bboxType: 'str', fields: ['id', 'geometry'], maxItems: 0, output: 'page', format: 'json', x: 300, y: 80, wires: [['picker-pages'], ['picker-done']] },
          { id: 'picker-pages', type: 'function', z: 'picker-tab', func: `global.get('fs').appendFileSync(${JSON.stringify(join(home, 'ids.txt'))}, msg.payload.map((i) => i.id + '\\n').join('')); return null;`, outputs: 1, x: 500, y: 40, wires: [[]] },
          { id: 'picker-done', type: 'function', z: 'picker-tab', func: `global.get('fs').appendFileSync(${JSON.stringify(summaries)}, JSON.stringify(msg.payload) + '\\n'); return null;`, outputs: 1, x: 500, y: 80, wires: [[]] },
        ];
        await deployFlows(url, flow);
        context = await launchBrowser(home);
        page = await context.newPage();
        // Offline: no basemap (the picker keeps the choice in the browser).
        await page.addInitScript(() => localStorage.setItem('mapillary-area-basemap', ''));
        await openEditor(page, url, 'mapillary-images');
      });

      after(async function () {
        this.timeout(60_000);
        await context?.close().catch(() => undefined);
        await nodeRed?.stop(10_000);
        if (home) rmSync(home, { recursive: true, force: true });
      });

      /** Opens the node's dialog and its map, which shows the current area (the sandbox's suburb) drawn. */
      async function openMap(): Promise<{ area: Box; canvas: Box }> {
        await openNode(page, 'picker-images');
        await page.locator('.mapillary-area-map').click();
        const canvas = page.locator('.mapillary-area-map-canvas.leaflet-container');
        await canvas.waitFor({ state: 'visible', timeout: 30_000 });
        const current = page.locator('.mapillary-area-map-canvas path.leaflet-interactive').first();
        await current.waitFor({ state: 'visible' });
        await page.waitForTimeout(300); // fitted to the area
        // Where the current area is on the screen, and the whole map.
        return { area: (await current.boundingBox())!, canvas: (await canvas.boundingBox())! };
      }

      /** The harvest's search requests lie in `area`, and its items are exactly `truth` (the sandbox's in the drawn shape). */
      async function assertHarvest(area: [number, number, number, number], truth: string[]): Promise<void> {
        const summary = await harvest();
        assert.equal(summary.ended, 'complete', JSON.stringify(summary));
        assert.equal(summary.items, truth.length);
        const ids = existsSync(join(home, 'ids.txt')) ? readFileSync(join(home, 'ids.txt'), 'utf8').split('\n').filter(Boolean) : [];
        assert.deepEqual(ids.sort(), [...truth].sort(), 'exactly the sandbox\'s images in the drawn area');
        const searches = sandbox.requests.filter((r) => r.url.startsWith('/graph/images'));
        assert.ok(searches.length > 0);
        const eps = 1e-9;
        for (const search of searches) {
          const [w, s, e, n] = new URL(search.url, 'http://x').searchParams.get('bbox')!.split(',').map(Number) as [number, number, number, number];
          assert.ok(w >= area[0] - eps && s >= area[1] - eps && e <= area[2] + eps && n <= area[3] + eps, `${search.url} outside the drawn area ${area}`);
        }
      }

      async function harvest(): Promise<Record<string, any>> {
        rmSync(summaries, { force: true });
        rmSync(join(home, 'ids.txt'), { force: true });
        sandbox.resetLog();
        await pressInject(url, 'picker-go');
        for (let i = 0; i < 300 && !existsSync(summaries); i++) await page.waitForTimeout(50);
        return JSON.parse(readFileSync(summaries, 'utf8').trim().split('\n')[0]!) as Record<string, any>;
      }

      it('a box drawn on the map fills the Area field; saved and deployed, the harvest asks only for that area', async () => {
        const { area: box } = await openMap();
        await page.locator('.leaflet-pm-icon-rectangle').click();
        // Two clicks: one corner, then the other (well inside the suburb, away from its edges).
        await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
        await page.mouse.click(box.x + box.width * 0.6, box.y + box.height * 0.6);
        const value = await page.locator('#node-input-bbox').inputValue();
        assert.match(value, /^-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?$/, value);
        const [w, s, e, n] = value.split(',').map(Number) as [number, number, number, number];
        assert.ok(w < e && s < n);
        mkdirSync(runtime.screenshots, { recursive: true });
        await page.screenshot({ path: join(runtime.screenshots, runtime.screenshot) });
        await page.locator('#node-dialog-ok').click();
        await pressDeploy(page);
        const saved = JSON.parse((await http('GET', `${url}/flows`)).body) as FlowNode[];
        const node = saved.find((x) => x.id === 'picker-images')!;
        assert.deepEqual([node.bbox, node.bboxType], [value, 'str'], 'Done and Deploy saved the drawn box');
        const [W, S, E, N] = AREAS.suburb;
        assert.ok(w > W && e < E && s > S && n < N && (e - w) < (E - W) / 2, `drawn inside the suburb the map showed: ${value}`);
        await assertHarvest([w, s, e, n], world.imagesIn([w, s, e, n]).map((i) => i.id));
      });

      it('a polygon drawn instead is saved as GeoJSON and harvested as that shape', async () => {
        // Over most of the map (which shows the box drawn before, and the suburb around it).
        const { canvas: box } = await openMap();
        await page.locator('.leaflet-pm-icon-polygon').click();
        const corners = [[0.1, 0.1], [0.9, 0.15], [0.5, 0.92]].map(([fx, fy]) => [box.x + box.width * fx!, box.y + box.height * fy!] as const);
        for (const [x, y] of corners) await page.mouse.click(x, y);
        await page.mouse.click(corners[0]![0], corners[0]![1]); // back on the first corner: closed
        const value = await page.locator('#node-input-bbox').inputValue();
        const polygon = JSON.parse(value) as { type: string; coordinates: number[][][] };
        assert.equal(polygon.type, 'Polygon');
        assert.equal(polygon.coordinates[0]!.length, 4, 'three corners, closed');
        await page.locator('#node-dialog-ok').click();
        await pressDeploy(page);
        const node = (JSON.parse((await http('GET', `${url}/flows`)).body) as FlowNode[]).find((x) => x.id === 'picker-images')!;
        assert.equal(node.bboxType, 'json');
        const ring = polygon.coordinates[0]!;
        const bounds: [number, number, number, number] = [Math.min(...ring.map((p) => p[0]!)), Math.min(...ring.map((p) => p[1]!)), Math.max(...ring.map((p) => p[0]!)), Math.max(...ring.map((p) => p[1]!))];
        const truth = world.images.filter((i) => booleanPointInPolygon(i.geometry.coordinates, polygon as never)).map((i) => i.id);
        assert.ok(truth.length > 0, `images inside the drawn polygon ${value}`);
        await assertHarvest(bounds, truth);
      });
    });
  }
});
