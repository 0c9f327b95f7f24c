// Layout rules that the type checker cannot see:
// - src/ is the Mapillary client and never imports Node-RED;
// - tests never read ../shared (a user's clone has no such folder).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|js|mjs|cjs)$/.test(name)) yield path;
  }
}

for (const file of files(join(root, 'src'))) {
  if (/(from\s+|require\(\s*|import\(\s*)['"](node-red|@node-red\/)/.test(readFileSync(file, 'utf8'))) {
    problems.push(`${relative(root, file)} imports Node-RED: src/ must stay usable from plain Node`);
  }
}
for (const file of files(join(root, 'test'))) {
  if (/\.\.\/shared\b/.test(readFileSync(file, 'utf8'))) {
    problems.push(`${relative(root, file)} reads ../shared, which a user's clone does not have`);
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layout ok');
