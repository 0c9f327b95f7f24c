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
 * folder below the admin root. The numeric settings (Max items, Max requests; the config node's
 * timeout, concurrency and rate) follow the ranges the runtime exports
 * (RED.settings.mapillaryConfigLimits): out-of-range values are marked invalid with the catalog's
 * message, and Done saves what was typed.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import {
  type FlowNode, freePort, http, NODE_TYPES, nodeSetProblems, PACKAGE_NAME, packageNodeSets, settingsSource,
} from '../../scripts/node-red-home';
import { FIELD_CHOICES, SETTING_RANGES } from '../../src';
import { SIGN_IN } from '../../nodes/shared/oauth-routes';
import { clickTab, dismissNotifications, ensureChromium, importFlow, launchBrowser, openEditor, openNode } from './browser';
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
    fields: ['id', 'geometry', 'captured_at'], maxItems: 100, maxRequests: 800, output: 'item', format: 'geojson', x: 200, y: 60, wires: [[], []],
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

  /** Input `selector` of the open dialog: its value, whether the editor marks it invalid, its range attributes. */
  const input = (selector: string): Promise<{ value: string; invalid: boolean; min: string | null; max: string | null; placeholder: string | null }> =>
    page.evaluate((sel) => {
      const el = document.querySelector<HTMLInputElement>(sel)!;
      return { value: el.value, invalid: el.classList.contains('input-error'), min: el.getAttribute('min'), max: el.getAttribute('max'), placeholder: el.getAttribute('placeholder') };
    }, selector);

  /**
   * Types each value into input `selector` (as a person does: the editor validates on keyup) and
   * checks that it is marked invalid or not; for the first invalid one, that hovering the field
   * shows `message`. Leaves the last valid value typed.
   */
  async function expectValidity(selector: string, values: { invalid: string[]; valid: string[] }, message?: string): Promise<void> {
    const field = page.locator(selector);
    for (const [i, value] of values.invalid.entries()) {
      await field.fill(value);
      await field.press('End');
      assert.equal((await input(selector)).invalid, true, `${selector} = ${JSON.stringify(value)} is marked invalid`);
      if (i === 0 && message) {
        await field.hover();
        await page.locator('.red-ui-popover').filter({ hasText: message }).first().waitFor({ state: 'visible', timeout: 5000 });
        await page.mouse.move(0, 0);
      }
    }
    for (const value of values.valid) {
      await field.fill(value);
      await field.press('End');
      assert.equal((await input(selector)).invalid, false, `${selector} = ${JSON.stringify(value)} is valid`);
    }
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

  it('palette: each node\'s label fits on one line, and each has an icon of its own', async () => {
    const flowTypes = NODE_TYPES.filter((type) => type !== 'mapillary-config');
    const icons = new Set<string>();
    for (const type of flowTypes) {
      const node = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).first();
      await node.waitFor({ state: 'visible' });
      const label = node.locator('.red-ui-palette-label');
      assert.ok(!(await label.innerText()).includes('\n'), `${type}: "${await label.innerText()}" wraps`);
      const lines = await label.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight || '20')));
      assert.equal(lines, 1, `${type}: its label takes ${lines} lines`);
      icons.add(await node.locator('.red-ui-palette-icon-container').innerHTML());
    }
    assert.equal(icons.size, flowTypes.length, 'an icon per node');
  });

  it('loads the packed package\'s six node types; the editor got the shared script below /admin/ (200)', async () => {
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

  it('reads every fact from the runtime (ranges, fields, sign-in), and keeps no copy: without the setting it leaves the check to the runtime', async () => {
    const exported = await page.evaluate(() => {
      const { settings } = (globalThis as unknown as { RED: { settings: Record<string, unknown> } }).RED;
      return [settings.mapillaryConfigLimits, settings.mapillaryConfigFields, settings.mapillaryConfigSignIn];
    });
    assert.deepEqual(exported[0], JSON.parse(JSON.stringify(SETTING_RANGES)), 'the runtime exports src/limits.ts SETTING_RANGES');
    assert.deepEqual(exported[1], JSON.parse(JSON.stringify(FIELD_CHOICES)), 'the runtime exports src/endpoints/v4.ts FIELD_CHOICES');
    assert.deepEqual(exported[2], JSON.parse(JSON.stringify(SIGN_IN)), 'the runtime exports the sign-in facts of nodes/shared/oauth-routes.ts');
    const answers = await page.evaluate((types) => {
      const { RED } = globalThis as unknown as {
        RED: { settings: Record<string, unknown>; nodes: { getType(type: string): { defaults: Record<string, { validate(value: unknown, opt: object): unknown }> } } };
      };
      const saved = RED.settings.mapillaryConfigLimits;
      const out: Record<string, unknown> = {};
      try {
        for (const round of ['runtime', 'changed', 'missing']) {
          if (round === 'changed') RED.settings.mapillaryConfigLimits = { ...(saved as object), maxItems: { min: 0, max: 10, default: 5 }, timeout: { min: 5, max: 60, default: 30 } };
          if (round === 'missing') delete RED.settings.mapillaryConfigLimits;
          for (const type of types) {
            const defaults = RED.nodes.getType(type).defaults;
            out[`${round} ${type} maxItems 11`] = defaults.maxItems.validate('11', {});
            out[`${round} ${type} maxItems 100000001`] = defaults.maxItems.validate('100000001', {});
            out[`${round} ${type} maxItems 100000000`] = defaults.maxItems.validate(100000000, {});
            out[`${round} ${type} maxRequests 0`] = defaults.maxRequests.validate('0', {});
          }
          const config = RED.nodes.getType('mapillary-config').defaults;
          out[`${round} timeout 4`] = config.timeout.validate('4', {});
          out[`${round} timeout 601`] = config.timeout.validate('601', {});
        }
      } finally {
        RED.settings.mapillaryConfigLimits = saved;
      }
      return out;
    }, ['mapillary-images', 'mapillary-detections', 'mapillary-features']);
    const count = (min: string, max: string): string => `Must be a whole number from ${min} to ${max}`;
    const number = (min: string, max: string): string => `Must be a number from ${min} to ${max}, or \${ENV_VAR}`;
    const expected: Record<string, unknown> = {};
    for (const type of ['mapillary-images', 'mapillary-detections', 'mapillary-features']) {
      Object.assign(expected, {
        [`runtime ${type} maxItems 11`]: true, [`runtime ${type} maxItems 100000001`]: count('0', '100,000,000'), [`runtime ${type} maxItems 100000000`]: true,
        [`runtime ${type} maxRequests 0`]: count('1', '1,000,000'),
        [`changed ${type} maxItems 11`]: count('0', '10'), [`changed ${type} maxItems 100000001`]: count('0', '10'), [`changed ${type} maxItems 100000000`]: count('0', '10'),
        [`changed ${type} maxRequests 0`]: count('1', '1,000,000'),
        [`missing ${type} maxItems 11`]: true, [`missing ${type} maxItems 100000001`]: true, [`missing ${type} maxItems 100000000`]: true,
        [`missing ${type} maxRequests 0`]: true,
      });
    }
    Object.assign(expected, {
      'runtime timeout 4': true, 'runtime timeout 601': number('1', '600'),
      'changed timeout 4': number('5', '60'), 'changed timeout 601': number('5', '60'),
      'missing timeout 4': true, 'missing timeout 601': true,
    });
    assert.deepEqual(answers, expected);
  });

  it('mapillary images: Max items and Max requests follow their ranges, an invalid value is marked with the catalog\'s message, Done saves max requests', async () => {
    const type = 'mapillary-images';
    await openDialog(type, 'dialogs-images');
    assert.deepEqual(await input('#node-input-maxItems'), { value: '100', invalid: false, min: '0', max: '100000000', placeholder: '5000' });
    assert.deepEqual(await input('#node-input-maxRequests'), { value: '800', invalid: false, min: '1', max: '1000000', placeholder: '10000' });
    const row = (await page.locator('#node-input-maxRequests').locator('xpath=..').innerText()).replace(/\s+/g, ' ').trim();
    assert.equal(row, 'Max requests per harvest', 'the row after Max items, from the catalog');
    const rows = await page.evaluate(() => [...document.querySelectorAll('.red-ui-tray .form-row')].map((el) => el.querySelector('input, select')?.id ?? ''));
    assert.equal(rows.indexOf('node-input-maxRequests'), rows.indexOf('node-input-maxItems') + 1, 'Max requests comes right after Max items');

    await expectValidity('#node-input-maxItems', { invalid: ['-1', '100000001', '1.5'], valid: ['', '0', '100000000', '250'] }, 'Must be a whole number from 0 to 100,000,000');
    await expectValidity('#node-input-maxRequests', { invalid: ['0', '1000001', '2.5', '-3'], valid: ['', '1', '1000000', '2500'] }, 'Must be a whole number from 1 to 1,000,000');
    await pressDone();
    const saved = await page.evaluate(() => {
      const { RED } = globalThis as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> | null } } };
      const node = RED.nodes.node('dialogs-images')!;
      return { maxItems: node.maxItems, maxRequests: node.maxRequests, valid: node.valid };
    });
    assert.deepEqual({ ...saved, maxItems: String(saved.maxItems), maxRequests: String(saved.maxRequests) }, { maxItems: '250', maxRequests: '2500', valid: true });
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('mapillary detections and features: the Max requests row; empty (from msg.maxRequests) is saved as empty', async () => {
    for (const [type, id] of [['mapillary-detections', 'dialogs-detections'], ['mapillary-features', 'dialogs-features']] as const) {
      await openDialog(type, id);
      const maxRequests = await input('#node-input-maxRequests');
      assert.deepEqual({ ...maxRequests, value: undefined }, { value: undefined, invalid: false, min: '1', max: '1000000', placeholder: '10000' }, type);
      assert.ok(['', '10000'].includes(maxRequests.value), `${type}: a node without maxRequests opens with the default: ${maxRequests.value}`);
      assert.equal((await input('#node-input-maxItems')).max, '100000000', type);
      await expectValidity('#node-input-maxItems', { invalid: ['100000001'], valid: ['0'] });
      await expectValidity('#node-input-maxRequests', { invalid: ['1000001'], valid: [''] });
      await pressDone();
      const saved = await page.evaluate((nodeId) => {
        const { RED } = globalThis as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> | null } } };
        const node = RED.nodes.node(nodeId)!;
        return { maxItems: String(node.maxItems), maxRequests: node.maxRequests, valid: node.valid };
      }, id);
      assert.deepEqual(saved, { maxItems: '0', maxRequests: '', valid: true }, type);
    }
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('mapillary-config: Check asks the runtime even with nothing typed; timeout, concurrency and rate follow their ranges; empty and ${ENV_VAR} are allowed, and Done keeps ${ENV_VAR}', async () => {
    await openDialog('mapillary-images', 'dialogs-images');
    await page.locator('#node-input-btn-mapillary-edit').click();
    await page.locator('#node-config-input-apiVersion').waitFor({ state: 'visible' });

    // Check with no token anywhere (nothing typed, never deployed): the dialog asks the runtime, and shows its words.
    const errorsBefore = consoleErrors.length;
    const asked = page.waitForResponse((r) => /\/mapillary\/auth\/check$/.test(r.url()));
    await page.locator('#mapillary-check-button').click();
    const answer = await asked;
    assert.deepEqual(answer.request().postDataJSON(), { id: V4, userToken: '', graphUrl: '' }, 'what the dialog sends');
    const { error } = (await answer.json()) as { error?: { code?: string; message?: string } };
    assert.ok(error?.code && error.message && !['denied', 'state', 'secret', 'network', 'failed', 'settings', 'token'].includes(error.code),
      `the runtime answers a code the dialog does not know, with a message: ${JSON.stringify(error)}`);
    const status = page.locator('#mapillary-auth-status');
    await status.getByText(error.message).waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await status.getAttribute('data-kind'), 'error');
    assert.equal((await status.innerText()).trim(), error.message, 'the runtime\'s message, alone');
    // The browser logs the route's HTTP 4xx answer as a console error: expected here.
    for (let i = consoleErrors.length - 1; i >= errorsBefore; i--) {
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(consoleErrors[i])) consoleErrors.splice(i, 1);
    }

    await clickTab(page, 'node-config-mapillary-tabs', 'Advanced', '#node-config-input-timeout');
    assert.deepEqual(await input('#node-config-input-timeout'), { value: '30', invalid: false, min: '1', max: '600', placeholder: '30' });
    assert.deepEqual(await input('#node-config-input-concurrency'), { value: '4', invalid: false, min: '1', max: '64', placeholder: '32' });
    assert.deepEqual(await input('#node-config-input-requestsPerMinute'), { value: '6000', invalid: false, min: '0', max: '60000', placeholder: '6000' });
    await expectValidity('#node-config-input-timeout', {
      invalid: ['601', '0', 'abc', '-5', '1e3', '${}', '30 s'], valid: ['', '${MAPILLARY_TIMEOUT}', '600', '1', '2.5'],
    }, 'Must be a number from 1 to 600, or ${ENV_VAR}');
    await expectValidity('#node-config-input-concurrency', { invalid: ['65', '0'], valid: ['64', '${CONCURRENCY}'] }, 'Must be a number from 1 to 64, or ${ENV_VAR}');
    await expectValidity('#node-config-input-requestsPerMinute', { invalid: ['60001', '-1'], valid: ['0', '60000'] }, 'Must be a number from 0 to 60,000, or ${ENV_VAR}');
    await page.locator('#node-config-input-timeout').fill('${MAPILLARY_TIMEOUT}');
    assert.deepEqual(await untranslated(), [], 'untranslated keys in the config dialog');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-timeout').waitFor({ state: 'detached' });
    const config = await page.evaluate((id) => {
      const { RED } = globalThis as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> | null } } };
      const node = RED.nodes.node(id)!;
      return { timeout: node.timeout, concurrency: String(node.concurrency), requestsPerMinute: String(node.requestsPerMinute), valid: node.valid };
    }, V4);
    assert.deepEqual(config, { timeout: '${MAPILLARY_TIMEOUT}', concurrency: '${CONCURRENCY}', requestsPerMinute: '60000', valid: true });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('Node-RED logged no errors', () => {
    assert.deepEqual(nodeRed?.errorLines() ?? [], []);
  });
});
