/**
 * End to end: the example flows in a real Node-RED 4 process, with the package installed from
 * its `npm pack` tarball (what a user gets from the registry), against the sandbox.
 *
 * before(): npm pack (runs `prepare`, the build) into a temporary directory, npm install of the
 * tarball into a temporary user directory, the sandbox in this process, Node-RED 4.1 from this
 * project's devDependencies as a child process with the MAPILLARY_* variables pointing at the
 * sandbox (the code npm start uses). Each example is then deployed with its credentials through
 * the admin API (POST /flows), its inject node pressed (POST /inject/:id), and the messages that
 * reach its debug nodes, seen through the editor's comms websocket, are compared with the
 * sandbox's ground truth.
 */
import { strict as assert } from 'node:assert';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import booleanIntersects from '@turf/boolean-intersects';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { dirname, join } from 'node:path';
import {
  deployFlows, type Example, type FlowNode, flowsOf, freePort, loadExamples, NODE_TYPES, nodeRedEnv, nodeSetProblems,
  PACKAGE_NAME, packageNodeSets, pressInject, settingsSource,
} from '../../scripts/node-red-home';
import { type BBox, type Image, World } from '../../sandbox/data';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { Comms } from './comms';
import { installTarball, NodeRedProcess, packPackage } from './harness';

/** Outputs and notifications of one example must arrive within this. */
const FLOW_TIMEOUT_MS = 30_000;

function parseBBox(text: unknown): BBox {
  const parts = String(text).split(',').map(Number);
  assert.equal(parts.length, 4, `bbox ${String(text)}`);
  assert.ok(parts.every(Number.isFinite), `bbox ${String(text)}`);
  return parts as unknown as BBox;
}

const sortedIds = (items: Iterable<{ id?: unknown }>): string[] => [...items].map((item) => String(item.id)).sort();

interface Summary { items: number; pages: number; ended: string; warnings: unknown[]; error?: unknown }

describe('examples end to end (npm pack, Node-RED 4 process, sandbox)', function () {
  this.timeout(45_000);
  // A world of its own: example 06 changes it between nights.
  const world = new World();

  let home: string;
  let userDir: string;
  let sandbox: Sandbox | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let editor: string;
  let comms: Comms | undefined;
  let examples: Example[];

  const example = (prefix: string): Example => {
    const found = examples.find((e) => e.name.startsWith(prefix));
    assert.ok(found, `no example ${prefix}* in examples/ (found ${examples.map((e) => e.name).join(', ')})`);
    return found;
  };
  const node = (ex: Example, id: string): FlowNode => {
    const found = ex.nodes.find((n) => n.id === id);
    assert.ok(found, `${ex.name}: no node ${id}`);
    return found;
  };
  const errorLines = (): string[] => nodeRed?.errorLines() ?? [];

  /** Deploys one example (its tab, nodes and config node with credentials), waits until its flows run, presses its inject. */
  async function run(ex: Example, injectId: string): Promise<Comms> {
    assert.ok(comms);
    comms.clear();
    await deployFlows(editor, flowsOf([ex]));
    // POST /flows answers before the flows are started; the runtime announces the start.
    await comms.waitFor(() => comms!.messages.some((m) => m.topic === 'notification/runtime-deploy'), `the deploy of ${ex.name}`, FLOW_TIMEOUT_MS);
    comms.clear();
    await pressInject(editor, injectId);
    return comms;
  }

  /** No node reported an error (its log entries reach the debug sidebar too). */
  function assertNoNodeErrors(ex: Example): void {
    const errors = comms!.debug().filter((d) => d.level !== undefined && d.level <= 20);
    assert.deepEqual(errors.map((d) => `${d.id}: ${d.msg}`), [], `${ex.name}: nodes reported errors`);
  }

  before(async function () {
    this.timeout(90_000);
    examples = loadExamples();
    home = mkdtempSync(join(tmpdir(), 'mapillary-e2e-'));
    userDir = join(home, 'user');
    installTarball(packPackage(join(home, 'pack')), userDir);
    // The contrib node example 09 previews its pictures with, as a user installs it from the palette.
    symlinkSync(dirname(require.resolve('node-red-contrib-image-output/package.json')), join(userDir, 'node_modules', 'node-red-contrib-image-output'), 'dir');

    sandbox = await startSandbox({ world });
    const port = await freePort();
    editor = `http://127.0.0.1:${port}`;
    writeFileSync(join(userDir, 'settings.js'), settingsSource({
      uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'mapillary-e2e', debugMaxLength: 10_000_000, logLevel: 'info',
    }, 'Written by test/e2e/examples.test.ts'));
    nodeRed = await NodeRedProcess.start({ userDir, port, cwd: userDir, env: nodeRedEnv(process.env, sandbox) }, editor);
    comms = await Comms.open(editor);
  });

  after(async function () {
    this.timeout(30_000);
    await comms?.close();
    await nodeRed?.stop(10_000);
    await sandbox?.close();
    if (home) rmSync(home, { recursive: true, force: true });
    if (process.env.E2E_LOG) console.log(nodeRed?.log);
  });

  it('runs the packed package: a real directory in node_modules, its six node types loaded without errors', async () => {
    const installed = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
    assert.ok(lstatSync(installed).isDirectory() && !lstatSync(installed).isSymbolicLink(), `${installed} must be a directory, not a link to the project`);
    for (const file of ['dist/nodes/mapillary-images.js', 'dist/nodes/mapillary-images.html', 'package.json']) {
      assert.ok(existsSync(join(installed, file)), `${file} missing from the packed package`);
    }
    const sets = await packageNodeSets(editor);
    assert.deepEqual(nodeSetProblems(sets), []);
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...NODE_TYPES].sort());
  });

  it('01: the summary counts every image in the box, and the pages hold exactly those images', async () => {
    const ex = example('01');
    const bbox = parseBBox(node(ex, 'ex1-images').bbox);
    const expected = world.imagesIn(bbox);
    const feed = await run(ex, 'ex1-inject');
    const [summary] = await feed.waitForOutputs('ex1-summary', 1, FLOW_TIMEOUT_MS) as Summary[];
    const pages = feed.outputs('ex1-pages') as Image[][];
    assert.equal(summary.ended, 'complete',
      `summary.ended: ${summary.items} of the ${expected.length} sandbox images in the box, max items ${String(node(ex, 'ex1-images').maxItems)}`);
    assert.equal(summary.items, expected.length);
    assert.equal(pages.length, summary.pages);
    assert.deepEqual(sortedIds(pages.flat()), sortedIds(expected));
    assertNoNodeErrors(ex);
  });

  it('02: twenty images, then one page of decoded detections per image', async () => {
    const ex = example('02');
    const bbox = parseBBox(node(ex, 'ex2-images').bbox);
    const inBox = new Set(world.imagesIn(bbox).map((image) => image.id));
    const feed = await run(ex, 'ex2-inject');
    // The detections node runs once per image and shows a green (done) or red (failed) status each time.
    const finished = (): number => feed.statuses('ex2-detections').filter((s) => s.fill === 'green' || s.fill === 'red').length;
    await feed.waitFor(() => finished() >= 20 || feed.outputs('ex2-debug').length >= 20, 'the detections of 20 images', FLOW_TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, 500)); // let late messages arrive; nothing more may come
    const pages = feed.outputs('ex2-debug') as Array<Array<Record<string, any>>>;
    const images = new Set<string>();
    for (const page of pages) {
      assert.ok(Array.isArray(page), 'each message is a page (an array) of detections');
      const imageIds = new Set(page.map((detection) => String(detection.image?.id)));
      assert.ok(imageIds.size <= 1, `a page holds the detections of one image, got ${[...imageIds].join(', ')}`);
      for (const imageId of imageIds) {
        assert.ok(inBox.has(imageId), `image ${imageId} is in the example's box`);
        assert.ok(!images.has(imageId), `image ${imageId} came twice`);
        images.add(imageId);
        const image = world.image(imageId)!;
        assert.deepEqual(sortedIds(page), sortedIds(image.detections), `the detections of image ${imageId}`);
      }
      for (const detection of page) {
        const truth = world.detection(String(detection.id))!;
        const { polygon } = detection;
        assert.ok(polygon?.normalized && polygon?.pixels, `detection ${detection.id} has polygon.normalized and polygon.pixels`);
        assert.equal(polygon.type, 'Polygon');
        const image = world.image(truth.image_id)!;
        const ring = polygon.normalized[0] as number[][];
        const pixels = polygon.pixels[0] as number[][];
        assert.equal(ring.length, truth.polygon.length + 1, 'a closed ring of the detection\'s corners');
        truth.polygon.forEach(([x, y], i) => {
          assert.ok(Math.abs(ring[i][0] - x / polygon.extent) < 1e-9 && Math.abs(ring[i][1] - y / polygon.extent) < 1e-9, `corner ${i} of ${detection.id}`);
          assert.ok(Math.abs(pixels[i][0] - ring[i][0] * image.width) < 1e-6 && Math.abs(pixels[i][1] - ring[i][1] * image.height) < 1e-6, `pixel corner ${i} of ${detection.id}`);
        });
      }
    }
    assertNoNodeErrors(ex);
    const withoutDetections = world.imagesIn(bbox).filter((image) => image.detections.length === 0).length;
    assert.equal(pages.length, 20,
      `one message per image: ${pages.length} pages reached the debug node for ${finished()} images searched `
      + `(${withoutDetections} of the ${inBox.size} sandbox images in the box have no detections; an image without any sends no page)`);
  });

  it('03: writes every regulatory and warning sign in the box into a GeoJSON FeatureCollection', async () => {
    const ex = example('03');
    const bbox = parseBBox(node(ex, 'ex3-features').bbox);
    const expected = world.mapFeaturesIn(bbox).filter((feature) => /^(regulatory|warning)--/.test(feature.object_value));
    const file = join(userDir, 'mapillary-traffic-signs.geojson');
    rmSync(file, { force: true });
    const feed = await run(ex, 'ex3-inject');
    const [written] = await feed.waitForOutputs('ex3-written', 1, FLOW_TIMEOUT_MS);
    const [summary] = await feed.waitForOutputs('ex3-summary', 1, FLOW_TIMEOUT_MS) as Summary[];
    assert.equal(written, 'mapillary-traffic-signs.geojson');
    assert.equal(summary.ended, 'complete');
    assert.equal(summary.items, expected.length);
    assert.ok(existsSync(file), `${file} was written (Node-RED's working directory)`);
    const collection = JSON.parse(readFileSync(file, 'utf8')) as { type: string; features: Array<{ type: string; id: string; geometry: unknown; properties: Record<string, unknown> }> };
    assert.equal(collection.type, 'FeatureCollection');
    assert.equal(collection.features.length, expected.length);
    assert.deepEqual(sortedIds(collection.features), sortedIds(expected));
    for (const feature of collection.features) {
      const truth = world.mapFeature(feature.id)!;
      assert.equal(feature.type, 'Feature');
      assert.deepEqual(feature.geometry, truth.geometry);
      assert.equal(feature.properties.object_value, truth.object_value);
    }
    assertNoNodeErrors(ex);
  });

  it('05: writes exactly the images inside the district outline (its hole left out) into a GeoJSON file, asking only for cells that meet it', async () => {
    const ex = example('05');
    const outline = JSON.parse(String(node(ex, 'ex5-images').bbox)) as { geometry: { type: 'Polygon'; coordinates: number[][][] } };
    const expected = world.images.filter((image) => booleanPointInPolygon(image.geometry.coordinates, outline.geometry));
    const file = join(userDir, 'mapillary-district-images.geojson');
    rmSync(file, { force: true });
    sandbox!.resetLog();
    const feed = await run(ex, 'ex5-inject');
    const [written] = await feed.waitForOutputs('ex5-written', 1, FLOW_TIMEOUT_MS);
    const [summary] = await feed.waitForOutputs('ex5-summary', 1, FLOW_TIMEOUT_MS) as (Summary & { cellsPlanned: number; cellsSkipped: number })[];
    assert.equal(written, 'mapillary-district-images.geojson');
    assert.equal(summary.ended, 'complete');
    assert.ok(expected.length > 100, `${expected.length} sandbox images in the outline`);
    assert.equal(summary.items, expected.length);
    assert.ok(summary.cellsSkipped > 0, 'cells of the outline\'s box that miss it are skipped');
    const collection = JSON.parse(readFileSync(file, 'utf8')) as { type: string; features: Array<{ type: string; id: string }> };
    assert.equal(collection.type, 'FeatureCollection');
    assert.deepEqual(sortedIds(collection.features), sortedIds(expected));
    const searches = sandbox!.requests.filter((r) => r.url.startsWith('/graph/images'));
    for (const search of searches) {
      const [w, s, e, n] = new URL(search.url, 'http://x').searchParams.get('bbox')!.split(',').map(Number) as [number, number, number, number];
      assert.ok(booleanIntersects({ type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] }, outline.geometry), `a request for a cell outside the outline: ${search.url}`);
    }
    assertNoNodeErrors(ex);
  });

  it('every example uses the one "Mapillary (env)" config node, identical in each file, so importing several leaves one to choose', () => {
    const configs = examples.map((ex) => ex.nodes.filter((n) => n.type === 'mapillary-config'));
    assert.ok(configs.every((list) => list.length === 1));
    const [first] = configs[0]!;
    for (const [config] of configs) assert.deepEqual(config, first);
    assert.equal(first!.z, undefined, 'a global config node, not one of a tab');
    for (const ex of examples) {
      // Every node that talks to Mapillary (the jobs coordinator does not: it has no config).
      for (const n of ex.nodes.filter((x) => String(x.type).startsWith('mapillary-') && !['mapillary-config', 'mapillary-jobs'].includes(String(x.type)))) assert.equal(n.mapillary, first!.id);
    }
  });

  it('04: the per-item harvest of the dense box, rebuilt by Join, holds every image once', async () => {
    const ex = example('04');
    const bbox = parseBBox(node(ex, 'ex4-images').bbox);
    const expected = world.imagesIn(bbox).length;
    const feed = await run(ex, 'ex4-inject');
    const [result] = await feed.waitForOutputs('ex4-result', 1, FLOW_TIMEOUT_MS) as Array<{ images: number; distinct: number }>;
    const [summary] = await feed.waitForOutputs('ex4-summary', 1, FLOW_TIMEOUT_MS) as Summary[];
    assert.equal(summary.ended, 'complete');
    assert.equal(summary.items, expected);
    assert.deepEqual(result, { images: expected, distinct: expected });
    assertNoNodeErrors(ex);
  });

  it('06: every night only what changed: every sign the first night, then exactly the signs added and the ids removed since', async () => {
    const ex = example('06');
    const bbox = parseBBox(node(ex, 'ex6-features').bbox);
    const signs = () => world.mapFeaturesIn(bbox).filter((feature) => /^(regulatory|warning)--/.test(feature.object_value));
    const today = new Date().toISOString().slice(0, 10);
    const newFile = join(userDir, `mapillary-new-signs-${today}.geojson`);
    const removedFile = join(userDir, `mapillary-removed-signs-${today}.json`);
    const idsIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { features: { id: string }[] }).features.map((f) => f.id).sort();
    rmSync(newFile, { force: true });
    rmSync(removedFile, { force: true });
    assert.equal(node(ex, 'ex6-inject').crontab, '00 02 * * *', 'every night at 02:00');

    let feed = await run(ex, 'ex6-inject');
    await feed.waitForOutputs('ex6-written', 1, FLOW_TIMEOUT_MS);
    let [summary] = await feed.waitForOutputs('ex6-summary', 1, FLOW_TIMEOUT_MS) as (Summary & { added: number; removed: number; unchanged: number })[];
    const first = signs();
    assert.deepEqual([summary.ended, summary.added, summary.removed, summary.unchanged], ['complete', first.length, 0, 0]);
    assert.deepEqual(idsIn(newFile), sortedIds(first), 'the first night: every sign is new');
    assert.ok(!existsSync(removedFile), 'nothing removed the first night');

    // A day passes: three signs are taken down, two new ones are put up.
    const gone = first.filter((_, i) => i % 7 === 3).slice(0, 3).map((f) => f.id);
    const put = [0, 1].map((i) => ({ like: first[i * 5]!, id: String(998_000_000_000_001 + i), at: [first[i * 5]!.geometry.coordinates[0] + 2e-5, first[i * 5]!.geometry.coordinates[1]] as [number, number] }));
    world.change({ removeMapFeatures: gone, addMapFeatures: put });
    rmSync(newFile, { force: true });
    feed = await run(ex, 'ex6-inject');
    const written = await feed.waitForOutputs('ex6-written', 2, FLOW_TIMEOUT_MS);
    [summary] = await feed.waitForOutputs('ex6-summary', 1, FLOW_TIMEOUT_MS) as (Summary & { added: number; removed: number; unchanged: number })[];
    assert.deepEqual([...written].sort(), [`mapillary-new-signs-${today}.geojson`, `mapillary-removed-signs-${today}.json`]);
    assert.deepEqual([summary.ended, summary.added, summary.removed, summary.unchanged], ['complete', 2, 3, first.length - 3]);
    assert.deepEqual(idsIn(newFile), put.map((p) => p.id).sort(), 'exactly the new signs');
    assert.deepEqual((JSON.parse(readFileSync(removedFile, 'utf8')) as string[]).sort(), [...gone].sort(), 'exactly the ids removed');
    assertNoNodeErrors(ex);
  });

  it('09: the first 12 images of the box, their 1024 px pictures written into files, credited, and previewed in the editor', async () => {
    const ex = example('09');
    comms!.subscribe('image');
    const bbox = parseBBox(node(ex, 'ex9-images').bbox);
    const expected = world.imagesIn(bbox).length;
    assert.ok(expected >= 12, `${expected} images in the box`);
    const folder = join(userDir, 'mapillary-pictures');
    rmSync(folder, { recursive: true, force: true });
    const feed = await run(ex, 'ex9-inject');
    const written = await feed.waitForOutputs('ex9-written', 12, FLOW_TIMEOUT_MS) as string[];
    const credits = await feed.waitForOutputs('ex9-credit', 12, FLOW_TIMEOUT_MS) as string[];
    const [summary] = await feed.waitForOutputs('ex9-summary', 1, FLOW_TIMEOUT_MS) as Array<{ pictures: number; ended: string }>;
    assert.deepEqual([summary.pictures, summary.ended], [12, 'complete']);
    assert.equal(new Set(written).size, 12);
    for (const name of written) {
      const [, id] = /^mapillary-pictures\/mapillary-(\d+)-1024\.jpg$/.exec(name) ?? [];
      assert.ok(id && world.image(id), name);
      const bytes = readFileSync(join(userDir, name));
      assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], `${name} is a JPEG`);
    }
    assert.ok(credits.every((c) => / Mapillary, CC BY-SA 4\.0 /.test(c)), credits[0]);
    // The preview node (node-red-contrib-image-output) sent each picture to the editor.
    await feed.waitFor(() => feed.messages.filter((m) => m.topic === 'image' && (m.data as { id?: string; data?: string }).id === 'ex9-preview' && !!(m.data as { data?: string }).data).length >= 12, 'the previews', FLOW_TIMEOUT_MS);
    const preview = feed.messages.find((m) => m.topic === 'image' && (m.data as { data?: string }).data)!.data as { data: string };
    assert.deepEqual([...Buffer.from(preview.data, 'base64').subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG preview');
    assertNoNodeErrors(ex);
  });

  it('logged no errors while running the examples', () => {
    assert.deepEqual(errorLines(), []);
  });
});
