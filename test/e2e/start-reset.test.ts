/**
 * `npm start -- --reset` (scripts/start.ts) clears its Node-RED user directory with
 * resetUserDir (scripts/node-red-home.ts): the flows, so that the examples are deployed again,
 * and the user tokens the config nodes keep across restarts (`.mapillary-tokens.json`, and its
 * key `.mapillary-tokens.key`), so that no token of an earlier sandbox or account comes back.
 * Everything else in the directory stays.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOW_FILES, PROJECT_ROOT, resetUserDir, TOKEN_FILES } from '../../scripts/node-red-home';

describe('npm start -- --reset: resetUserDir', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'mapillary-reset-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  /** Every entry of the directory, sorted (one level; folders end with /). */
  const entries = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();

  it('removes the flows and the kept user tokens, and nothing else', () => {
    const kept = ['settings.js', 'package.json', 'mapillary-traffic-signs.geojson', '.config.runtime.json', '.mapillary-tokens.json.bak', 'node_modules/'];
    for (const name of [...FLOW_FILES, ...TOKEN_FILES, ...kept]) {
      if (name.endsWith('/')) mkdirSync(join(home, name, 'x'), { recursive: true });
      else writeFileSync(join(home, name), `${name}\n`);
    }
    const removed = resetUserDir(home);
    assert.deepEqual([...removed].sort(), [...FLOW_FILES, ...TOKEN_FILES].sort());
    assert.ok(removed.includes('.mapillary-tokens.json') && removed.includes('.mapillary-tokens.key'), 'the kept tokens and their key');
    assert.deepEqual(entries(home), [...kept].sort(), 'what stays');
    assert.equal(readFileSync(join(home, 'settings.js'), 'utf8'), 'settings.js\n');
  });

  it('is quiet about files that are not there, and can run again', () => {
    writeFileSync(join(home, '.mapillary-tokens.json'), '{}');
    assert.deepEqual(resetUserDir(home), ['.mapillary-tokens.json']);
    assert.deepEqual(resetUserDir(home), []);
    assert.deepEqual(entries(home), []);
  });

  it('names the files the runtime keeps its tokens in (the built config node)', function () {
    const built = join(PROJECT_ROOT, 'dist', 'nodes', 'shared', 'user-tokens.js');
    if (!existsSync(built)) this.skip(); // npm test builds first
    const source = readFileSync(built, 'utf8');
    for (const name of TOKEN_FILES) assert.ok(source.includes(`'${name}'`) || source.includes(`"${name}"`), `${built} names ${name}`);
  });

  it('is what scripts/start.ts runs for --reset', () => {
    const start = readFileSync(join(PROJECT_ROOT, 'scripts', 'start.ts'), 'utf8');
    assert.match(start, /if \(reset\) \{\s*const removed = resetUserDir\(userDir\);/);
  });
});
