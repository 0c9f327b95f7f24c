// Build: compile TypeScript into dist/, then put each node's editor assets (.html, locales/,
// icons/) beside its compiled .js, where Node-RED 4 and 5 look for them.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });

const ASSET = /\.(html|json|png|svg)$/;
function copyAssets(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (ASSET.test(name)) cpSync(path, join(root, 'dist', relative(root, path)));
  }
}
copyAssets(join(root, 'nodes'));

// The editor's area picker: Leaflet and Leaflet-Geoman (dev dependencies) shipped inside the
// package, in resources/vendor/ (served by Node-RED below /resources/<package>/), so the editor
// needs no CDN. Their licences go with them.
const require = createRequire(import.meta.url);
const vendor = join(root, 'resources', 'vendor');
rmSync(vendor, { recursive: true, force: true });
/** The folder of an installed package (its package.json may not be exported). */
const packageDir = (name) => {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
};
const leaflet = packageDir('leaflet');
const geoman = packageDir('@geoman-io/leaflet-geoman-free');
for (const [from, to] of [
  [join(leaflet, 'dist', 'leaflet.js'), 'leaflet/leaflet.js'],
  [join(leaflet, 'dist', 'leaflet.css'), 'leaflet/leaflet.css'],
  [join(leaflet, 'dist', 'images'), 'leaflet/images'],
  [join(leaflet, 'LICENSE'), 'leaflet/LICENSE'],
  [join(geoman, 'dist', 'leaflet-geoman.min.js'), 'geoman/leaflet-geoman.js'],
  [join(geoman, 'dist', 'leaflet-geoman.css'), 'geoman/leaflet-geoman.css'],
  [join(geoman, 'LICENSE'), 'geoman/LICENSE'],
]) cpSync(from, join(vendor, to), { recursive: true });
