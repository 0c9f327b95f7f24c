/**
 * End to end in a real browser: the edit dialogs of the three flow nodes (mapillary images,
 * detections and features) on Node-RED 4.1 on this Node, with the package from its `npm pack`
 * tarball in a new user directory and the editor under httpAdminRoot '/admin/' (no adminAuth).
 *
 * Debian's Chromium (scripts/ensure-chromium.sh) opens the editor and imports a v4 and a v3
 * mapillary-config with one node of each flow type. Per node: the dialog opens without console
 * errors or untranslated keys, its fields checklist shows the saved fields (id checked and
 * locked, a tooltip from the catalog on each), a changed choice is what Done saves into the
 * editor's copy of the node, and the v3-only / v4-only rows follow the selected config node
 * (also one added or edited from inside the dialog). Detections: a decoding mode ticks and
 * locks geometry and image. The shared editor script is served from the module's resources/
 * folder below the admin root.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import {
  type FlowNode, freePort, http, NODE_TYPES, nodeSetProblems, PACKAGE_NAME, packageNodeSets, settingsSource,
} from '../../scripts/node-red-home';
import { dismissNotifications, ensureChromium, importFlow, launchBrowser, openEditor, openNode } from './browser';
import { installTarball, NodeRedProcess, packPackage } from './harness';

type FlowType = 'mapillary-images' | 'mapillary-detections' | 'mapillary-features';

const V4 = 'dialogs-config-v4';
const V3 = 'dialogs-config-v3';
const NEW_CONFIG = 'a config node added in the dialog';
/** A key the editor could not translate: i18next shows the key itself. */
const UNTRANSLATED = /mapillary-(images|detections|features|config)\./;
/** Where Node-RED serves the package's resources/mapillary-editor.js, below the admin root. */
const SHARED_SCRIPT = `/resources/${PACKAGE_NAME}/mapillary-editor.js`;

/** Two config nodes (unnamed: their labels come from the catalog) and one node of each flow type. */
const FLOW: FlowNode[] = [
  { id: V4, type: 'mapillary-config', name: '', apiVersion: 'v4', timeout: 30, concurrency: 4, requestsPerMinute: 6000 },
  { id: V3, type: 'mapillary-config', name: '', apiVersion: 'v3', timeout: 30, concurrency: 4, requestsPerMinute: 6000 },
  {
    id: 'dialogs-images', type: 'mapillary-images', name: '', mapillary: V4, bbox: '13.41,52.51,13.42,52.52', bboxType: 'str',
    startCapturedAt: '', endCapturedAt: '', creatorUsername: '', isPano: '', make: '', model: '', organizationId: '', sequenceId: '',
    fields: ['id', 'geometry', 'captured_at'], maxItems: 100, output: 'item', format: 'geojson', x: 200, y: 60, wires: [[], []],
  },
  {
    id: 'dialogs-detections', type: 'mapillary-detections', name: '', mapillary: V4, source: 'payload', sourceType: 'msg',
    fields: ['id', 'value', 'geometry'], geometry: 'raw', bbox: 'area', bboxType: 'msg', layers: '', values: '', maxItems: 0,
    output: 'page', format: 'json', x: 200, y: 160, wires: [[], []],
  },
  // Imported as if written by hand: fields as a comma string, output empty, no format.
  {
    id: 'dialogs-features', type: 'mapillary-features', name: 'stop signs', mapillary: V4, bbox: '', bboxType: 'str',
    objectValues: 'regulatory--stop--g1', fields: 'id, geometry,object_value', output: '', x: 200, y: 260, wires: [[], []],
  },
];

interface Checklist {
  /** Every checkbox's field, in order. */
  fields: string[];
  checked: string[];
  disabled: string[];
  /** Tooltip of each field's row. */
  titles: Record<string, string>;
}

interface SavedNode {
  fields: unknown;
  mapillary: unknown;
  geometry?: unknown;
  bbox?: unknown;
  bboxType?: unknown;
  output?: unknown;
  format?: unknown;
}

/** The environment for Node-RED without any MAPILLARY_* variable. */
function envWithoutMapillary(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MAPILLARY_')));
}

describe('the flow nodes\' edit dialogs in the editor (Chromium, packed package, httpAdminRoot /admin/)', function () {
  this.timeout(30_000);

  let home: string;
  let installed: string;
  let nodeRed: NodeRedProcess | undefined;
  let editor: string;
  let context: BrowserContext | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  const consoleLines: string[] = [];
  const responses: Array<{ url: string; status: number }> = [];

  /** The en-US catalog of a node type, as installed. */
  const catalog = (type: FlowType): { fields: Record<string, string> } =>
    (JSON.parse(readFileSync(join(installed, 'dist', 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<string, { fields: Record<string, string> }>)[type];

  /** The fields checklist of the open dialog. */
  const checklist = (type: FlowType): Promise<Checklist> => page.evaluate((listId) => {
    const boxes = [...document.querySelectorAll<HTMLInputElement>(`#${listId} input[type="checkbox"]`)];
    const titles: Record<string, string> = {};
    for (const box of boxes) titles[box.value] = box.closest('label')?.getAttribute('title') ?? '';
    return {
      fields: boxes.map((box) => box.value),
      checked: boxes.filter((box) => box.checked).map((box) => box.value),
      disabled: boxes.filter((box) => box.disabled).map((box) => box.value),
      titles,
    };
  }, `${type}-fields`);

  /*
   * Functions run in the page (page.evaluate) define no named functions inside: tsx compiles a
   * named one into a call of its own helper __name, which the page does not have.
   */

  /** Whether each v3-only and each v4-only element of the open dialog shows (as jQuery's :visible). */
  const generationRows = (type: FlowType): Promise<{ v3: boolean[]; v4: boolean[] }> => page.evaluate((prefix) => {
    const rows: Record<string, boolean[]> = {};
    for (const generation of ['v3', 'v4']) {
      rows[generation] = [...document.querySelectorAll<HTMLElement>(`.${prefix}-${generation}-only`)]
        .map((el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length));
    }
    return { v3: rows.v3, v4: rows.v4 };
  }, type);

  /** Waits (up to 5 s) until the open dialog shows the rows of `generation` only: the editor announces a new config node 50 ms late. */
  async function waitForGeneration(type: FlowType, generation: 'v3' | 'v4'): Promise<void> {
    await page.waitForFunction(([prefix, wanted]) => {
      for (const g of ['v3', 'v4']) {
        for (const el of document.querySelectorAll<HTMLElement>(`.${prefix}-${g}-only`)) {
          if (!!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) !== (g === wanted)) return false;
        }
      }
      return true;
    }, [type, generation] as const, { timeout: 5000 }).catch(() => undefined); // assertGeneration says what is wrong
  }

  async function assertGeneration(type: FlowType, generation: 'v3' | 'v4', when: string): Promise<void> {
    const rows = await generationRows(type);
    assert.ok(rows.v3.length > 0 && rows.v4.length > 0, `${type} has v3-only and v4-only rows: ${JSON.stringify(rows)}`);
    assert.deepEqual(rows.v3, rows.v3.map(() => generation === 'v3'), `${when}: v3-only rows ${generation === 'v3' ? 'shown' : 'hidden'}`);
    assert.deepEqual(rows.v4, rows.v4.map(() => generation === 'v4'), `${when}: v4-only rows ${generation === 'v4' ? 'shown' : 'hidden'}`);
  }

  /** Text of the open trays a person can see or hover (text, placeholders, tooltips, options) that looks like a catalog key. */
  const untranslated = (): Promise<string[]> => page.evaluate((source) => {
    const pattern = new RegExp(source);
    const texts: string[] = [];
    for (const tray of document.querySelectorAll<HTMLElement>('.red-ui-tray')) {
      texts.push(...tray.innerText.split('\n'));
      for (const el of tray.querySelectorAll('[placeholder], [title]')) {
        texts.push(el.getAttribute('placeholder') ?? '', el.getAttribute('title') ?? '');
      }
      for (const option of tray.querySelectorAll('option')) texts.push(option.textContent ?? '');
    }
    return texts.filter((text) => pattern.test(text));
  }, UNTRANSLATED.source);

  /** The editor's copy of node `id` (what Done saved and Deploy would send). */
  const savedNode = (id: string): Promise<SavedNode | null> => page.evaluate((nodeId) => {
    const { RED } = globalThis as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> | null } } };
    const node = RED.nodes.node(nodeId);
    if (!node) return null;
    return {
      fields: node.fields === undefined ? undefined : JSON.parse(JSON.stringify(node.fields)) as unknown, mapillary: node.mapillary, geometry: node.geometry, bbox: node.bbox, bboxType: node.bboxType,
      output: node.output, format: node.format,
    };
  }, id);

  /** The `fields` default of a node type, as its registerType declares it. */
  const defaultFields = (type: FlowType): Promise<string[]> => page.evaluate((nodeType) => {
    const { RED } = globalThis as unknown as { RED: { nodes: { getType(type: string): { defaults: { fields: { value: string[] } } } } } };
    return RED.nodes.getType(nodeType).defaults.fields.value.slice();
  }, type);

  /** The bbox TypedInput's type and value (throws in the page when it is no TypedInput). */
  const bboxInput = (): Promise<{ type: string; value: string }> => page.evaluate(() => {
    const { $ } = globalThis as unknown as { $: (selector: string) => { typedInput(method: string): string } };
    return { type: $('#node-input-bbox').typedInput('type'), value: $('#node-input-bbox').typedInput('value') };
  });

  /** Opens node `id`'s dialog, waits for its checklist, and checks what every dialog must: no errors, no keys, the catalog's fields. */
  async function openDialog(type: FlowType, id: string): Promise<Checklist> {
    await openNode(page, id);
    await page.locator(`#${type}-field-id`).waitFor({ state: 'visible' });
    await page.waitForTimeout(100); // the config select announces its value 50 ms after the dialog opens
    const list = await checklist(type);
    const fields = catalog(type).fields;
    assert.deepEqual(list.fields, Object.keys(fields), 'the checklist offers the catalog\'s fields, in order');
    assert.deepEqual(list.titles, fields, 'each field\'s tooltip is its catalog text');
    assert.ok(list.checked.includes('id'), 'id is checked');
    assert.ok(list.disabled.includes('id'), 'id is locked');
    assert.deepEqual(await untranslated(), [], 'untranslated keys in the dialog');
    assert.deepEqual(consoleErrors, [], 'console errors');
    return list;
  }

  async function pressDone(): Promise<void> {
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
  }

  /** Switches the open dialog's config node to v3 and back to v4, checking the rows each time. */
  async function switchGenerations(type: FlowType): Promise<void> {
    await assertGeneration(type, 'v4', 'with the v4 config');
    await page.locator('#node-input-mapillary').selectOption(V3);
    await assertGeneration(type, 'v3', 'after choosing the v3 config');
    assert.deepEqual(await untranslated(), [], 'untranslated keys in the v3 rows');
    await page.locator('#node-input-mapillary').selectOption(V4);
    await assertGeneration(type, 'v4', 'after choosing the v4 config again');
  }

  before(async function () {
    this.timeout(900_000); // apt-get install chromium on a fresh machine
    ensureChromium();
    home = mkdtempSync(join(tmpdir(), 'mapillary-dialogs-e2e-'));
    const tarball = packPackage(join(home, 'pack'));
    const userDir = join(home, 'user');
    installTarball(tarball, userDir);
    installed = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
    const port = await freePort();
    editor = `http://127.0.0.1:${port}/admin`;
    writeFileSync(join(userDir, 'settings.js'), settingsSource({
      uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'mapillary-e2e-dialogs', logLevel: 'info', httpAdminRoot: '/admin/',
      // No palette catalogue: the editor would fetch it from the internet.
      editorTheme: { palette: { catalogues: [] } },
    }, 'Written by test/e2e/dialogs.test.ts'));
    nodeRed = await NodeRedProcess.start({ userDir, port, cwd: userDir, env: envWithoutMapillary() }, editor);

    context = await launchBrowser(home);
    context.on('response', (response) => responses.push({ url: response.url(), status: response.status() }));
    page = context.pages()[0] ?? await context.newPage();
    page.on('console', (message) => {
      consoleLines.push(`${message.type()}: ${message.text()}`);
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => {
      consoleLines.push(`page error: ${error.message}`);
      consoleErrors.push(error.message);
    });
    try {
      await openEditor(page, editor, 'mapillary-images');
      await importFlow(page, FLOW);
      await dismissNotifications(page);
    } catch (error) {
      throw nodeRed.withLog(new Error(`${error instanceof Error ? error.message : String(error)}\n--- browser console ---\n${consoleLines.join('\n')}`));
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const lines = ['--- Node-RED log ---', nodeRed?.log.trimEnd() ?? '(not started)', '--- browser console ---', ...consoleLines];
    if (page) {
      const shot = join(tmpdir(), 'mapillary-dialogs-failure.png');
      await page.screenshot({ path: shot }).then(() => lines.push(`--- screenshot: ${shot}`), () => undefined);
      // Leave no dialog open for the next test.
      for (const cancel of ['#node-config-dialog-cancel', '#node-dialog-cancel']) {
        await page.locator(cancel).click({ timeout: 2000 }).catch(() => undefined);
        await page.locator(cancel).waitFor({ state: 'detached', timeout: 2000 }).catch(() => undefined);
      }
    }
    console.log(lines.join('\n'));
  });

  after(async function () {
    this.timeout(60_000);
    await context?.close().catch(() => undefined);
    await nodeRed?.stop(10_000);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('loads the packed package\'s four node types; the editor got the shared script below /admin/ (200)', async () => {
    assert.deepEqual(nodeSetProblems(await packageNodeSets(editor)), []);
    const types = await page.evaluate((names) => {
      const { RED } = globalThis as unknown as { RED: { nodes: { getType(type: string): unknown } } };
      return names.filter((name) => !!RED.nodes.getType(name));
    }, [...NODE_TYPES]);
    assert.deepEqual(types, [...NODE_TYPES], 'node types registered in the editor');

    const url = `${editor}${SHARED_SCRIPT}`;
    const fetched = responses.filter((r) => r.url === url);
    assert.ok(fetched.length > 0, `the editor asked for ${url}; it asked for: ${responses.filter((r) => /\/resources\//.test(r.url)).map((r) => r.url).join(', ') || 'no resources'}`);
    // Each node set's .html loads it: the first request is answered 200, the others may be revalidations (304).
    assert.equal(fetched[0].status, 200, `${url} answered ${fetched[0].status}`);
    assert.deepEqual(fetched.filter((r) => r.status !== 200 && r.status !== 304), [], `${url} answered`);
    const failed = responses.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.url}`);
    assert.deepEqual(failed, [], 'requests of the editor that failed');
    const served = await http('GET', url, undefined, { accept: '*/*' });
    assert.equal(served.status, 200);
    assert.equal(served.body, readFileSync(join(installed, 'resources', 'mapillary-editor.js'), 'utf8'), 'the installed resources/mapillary-editor.js is what is served');
    assert.deepEqual(consoleErrors, [], 'console errors while the editor loaded');
  });

  it('mapillary images: saved fields, default fields, a changed choice saved by Done; v3/v4 rows follow the config', async () => {
    const type = 'mapillary-images';
    const list = await openDialog(type, 'dialogs-images');
    assert.deepEqual(list.checked, ['id', 'geometry', 'captured_at'], 'the saved fields are checked');
    assert.deepEqual(list.disabled, ['id'], 'only id is locked');
    assert.deepEqual(await bboxInput(), { type: 'str', value: '13.41,52.51,13.42,52.52' }, 'the area is a TypedInput with its saved value');
    assert.equal(await page.locator('#node-input-output').inputValue(), 'item');
    assert.equal(await page.locator('#node-input-format').inputValue(), 'geojson');

    await page.locator('#mapillary-images-fields-defaults').click();
    const defaults = await defaultFields(type);
    assert.deepEqual((await checklist(type)).checked, defaults, '"Default fields" checks the default fields');

    await page.locator('#mapillary-images-field-captured_at').uncheck();
    await page.locator('#mapillary-images-field-make').check();
    await switchGenerations(type);
    await pressDone();

    const expected = list.fields.filter((field) => field === 'make' || (defaults.includes(field) && field !== 'captured_at'));
    assert.deepEqual(await savedNode('dialogs-images'), {
      fields: expected, mapillary: V4, geometry: undefined, bbox: '13.41,52.51,13.42,52.52', bboxType: 'str', output: 'item', format: 'geojson',
    });
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('mapillary detections: a decoding mode ticks and locks geometry and image; the choice is saved by Done', async () => {
    const type = 'mapillary-detections';
    const list = await openDialog(type, 'dialogs-detections');
    assert.deepEqual(list.checked, ['id', 'value', 'geometry'], 'the saved fields are checked');
    assert.deepEqual(list.disabled, ['id'], 'only id is locked with raw geometry');
    assert.equal(await page.locator('#mapillary-detections-decode-tip').isVisible(), false, 'no decoding tip with raw geometry');

    await page.locator('#mapillary-detections-field-value').uncheck();
    await page.locator('#mapillary-detections-field-created_at').check();

    await page.locator('#node-input-geometry').selectOption('pixels');
    let now = await checklist(type);
    assert.deepEqual(now.checked, ['id', 'created_at', 'geometry', 'image'], 'decoding ticks geometry and image');
    assert.deepEqual(now.disabled, ['id', 'geometry', 'image'], 'decoding locks geometry and image');
    assert.equal(await page.locator('#mapillary-detections-decode-tip').isVisible(), true, 'the decoding tip shows');

    await page.locator('#node-input-geometry').selectOption('raw');
    now = await checklist(type);
    assert.deepEqual(now.checked, ['id', 'created_at', 'geometry'], 'raw geometry gives back the choice made before');
    assert.deepEqual(now.disabled, ['id'], 'raw geometry unlocks geometry and image');
    assert.equal(await page.locator('#mapillary-detections-decode-tip').isVisible(), false);

    await page.locator('#node-input-geometry').selectOption('pixels');
    await switchGenerations(type);
    // The area is a v3-only row; it was saved as msg.area.
    await page.locator('#node-input-mapillary').selectOption(V3);
    assert.deepEqual(await bboxInput(), { type: 'msg', value: 'area' }, 'the area is a TypedInput of type msg');
    await page.locator('#node-input-mapillary').selectOption(V4);
    await pressDone();

    assert.deepEqual(await savedNode('dialogs-detections'), {
      fields: ['id', 'created_at', 'geometry', 'image'], mapillary: V4, geometry: 'pixels', bbox: 'area', bboxType: 'msg', output: 'page', format: 'json',
    });
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('mapillary features: fields saved as a comma string, missing output/format filled in; the choice is saved by Done', async () => {
    const type = 'mapillary-features';
    const list = await openDialog(type, 'dialogs-features');
    assert.deepEqual(list.checked, ['id', 'geometry', 'object_value'], 'the fields of the comma string are checked');
    assert.deepEqual(list.disabled, ['id'], 'only id is locked');
    assert.equal(await page.locator('#node-input-output').inputValue(), 'page', 'an empty output opens as the runtime\'s default');
    assert.equal(await page.locator('#node-input-format').inputValue(), 'json', 'a missing format opens as the runtime\'s default');
    assert.deepEqual(await bboxInput(), { type: 'str', value: '' }, 'the area is a TypedInput');

    await page.locator('#mapillary-features-field-object_value').uncheck();
    await page.locator('#mapillary-features-field-images').check();
    await switchGenerations(type);
    await pressDone();

    assert.deepEqual(await savedNode('dialogs-features'), {
      fields: ['id', 'geometry', 'images'], mapillary: V4, geometry: undefined, bbox: '', bboxType: 'str', output: 'page', format: 'json',
    });
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('the v3/v4 rows follow a config node added, then edited, from inside a dialog', async () => {
    const type = 'mapillary-images';
    await openDialog(type, 'dialogs-images');
    await assertGeneration(type, 'v4', 'with the v4 config');

    // Add a new config node, v3.
    await page.locator('#node-input-btn-mapillary-add').click();
    const apiVersion = page.locator('#node-config-input-apiVersion');
    await apiVersion.waitFor({ state: 'visible' });
    await page.locator('#node-config-input-name').fill(NEW_CONFIG);
    await apiVersion.selectOption('v3');
    await page.locator('#node-config-dialog-ok').click();
    await apiVersion.waitFor({ state: 'detached' });
    const added = await page.locator('#node-input-mapillary').inputValue();
    assert.ok(![V4, V3, '', '_ADD_'].includes(added), `the new config node is selected (${added})`);
    await waitForGeneration(type, 'v3');
    await assertGeneration(type, 'v3', 'after adding a v3 config node in the dialog');

    // Edit it into a v4 one.
    await page.locator('#node-input-btn-mapillary-edit').click();
    await apiVersion.waitFor({ state: 'visible' });
    assert.equal(await apiVersion.inputValue(), 'v3');
    await apiVersion.selectOption('v4');
    await page.locator('#node-config-dialog-ok').click();
    await apiVersion.waitFor({ state: 'detached' });
    await waitForGeneration(type, 'v4');
    await assertGeneration(type, 'v4', 'after editing that config node to v4 in the dialog');
    assert.deepEqual(await untranslated(), [], 'untranslated keys in the dialog');

    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
    assert.equal((await savedNode('dialogs-images'))?.mapillary, V4, 'Cancel kept the images node on its config');
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('Node-RED logged no errors', () => {
    assert.deepEqual(nodeRed?.errorLines() ?? [], []);
  });
});
