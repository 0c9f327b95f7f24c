// Layout rules that the type checker cannot see, over the import graph of the project:
// - src/ is the Mapillary client: it never imports Node-RED, nor any other folder of the project;
// - nodes/ uses the client only through its public entry, src/index.ts; shared helpers never
//   import a node file;
// - sandbox/ (the fake Mapillary used by npm start, the bench and the tests) stands alone;
//   scripts/ may use it, never the tests; tests may use everything;
// - no import circle anywhere;
// - tests never read ../shared (a user's clone has no such folder).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = ['src', 'nodes', 'sandbox', 'scripts', 'bench', 'test'];
/** What each folder may import from the others (its own files always). */
const ALLOWED = {
  src: [],
  nodes: ['src'],
  sandbox: [],
  scripts: ['sandbox'],
  bench: ['src', 'nodes', 'sandbox', 'scripts'],
  test: ['src', 'nodes', 'sandbox', 'scripts'],
};
const problems = [];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|js|mjs|cjs)$/.test(name)) yield path;
  }
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.mjs`, `${base}.js`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return undefined;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;
/** file → the project files it imports. */
const graph = new Map();
for (const folder of FOLDERS) {
  if (!existsSync(join(root, folder))) continue;
  for (const path of files(join(root, folder))) {
    const file = relative(root, path);
    const text = readFileSync(path, 'utf8');
    const deps = new Set();
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (folder === 'src' && /^(node-red|@node-red\/)/.test(spec)) problems.push(`${file} imports Node-RED: src/ must stay usable from plain Node`);
      if (!spec.startsWith('.')) continue;
      const target = resolveImport(path, spec);
      if (target) deps.add(target);
    }
    graph.set(file, deps);
    if (folder === 'test' && /\.\.\/shared\b/.test(text)) problems.push(`${file} reads ../shared, which a user's clone does not have`);
  }
}

for (const [file, deps] of graph) {
  const from = file.split('/')[0];
  for (const dep of deps) {
    const to = dep.split('/')[0];
    if (to !== from && !ALLOWED[from]?.includes(to)) problems.push(`${file} imports ${dep}: ${from}/ may not import ${to}/`);
    if (from === 'nodes' && to === 'src' && dep !== 'src/index.ts') problems.push(`${file} imports ${dep}: nodes use the client only through src/index.ts`);
    if (file.startsWith('nodes/shared/') && /^nodes\/[^/]+\.ts$/.test(dep)) problems.push(`${file} imports the node file ${dep}: shared helpers come first`);
  }
}

// Import circles (strongly connected components of more than one file, or a file importing itself).
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function visit(file) {
  index.set(file, counter);
  low.set(file, counter);
  counter += 1;
  stack.push(file);
  onStack.add(file);
  for (const dep of graph.get(file) ?? []) {
    if (!graph.has(dep)) continue;
    if (!index.has(dep)) {
      visit(dep);
      low.set(file, Math.min(low.get(file), low.get(dep)));
    } else if (onStack.has(dep)) {
      low.set(file, Math.min(low.get(file), index.get(dep)));
    }
  }
  if (low.get(file) === index.get(file)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.has(file)) problems.push(`import circle: ${component.sort().join(' → ')}`);
  }
}
for (const file of graph.keys()) if (!index.has(file)) visit(file);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`layout ok: ${graph.size} files, no import circle, imports point one way`);
