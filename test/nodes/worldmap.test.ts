import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, useNodeRed } from './setup';

/** What node-red-contrib-web-worldmap (a dev dependency) accepts: its browser code and the icons it ships. */
const WORLDMAP = dirname(require.resolve('node-red-contrib-web-worldmap/package.json'));
const worldmapCode = readFileSync(join(WORLDMAP, 'worldmap', 'worldmap.js'), 'utf8');
const worldmapIcons = readFileSync(join(WORLDMAP, 'worldmap', 'leaflet', 'font-awesome', 'css', 'font-awesome.min.css'), 'utf8');
/** The marker properties worldmap reads itself (any other one is shown in the popup). */
const READ = ['name', 'lat', 'lon', 'layer', 'icon', 'iconColor', 'bearing', 'arc', 'photoUrl', 'weblink'];

function assertAccepted(marker: Record<string, any>): void {
  assert.equal(typeof marker.name, 'string');
  assert.ok(Number.isFinite(marker.lat) && Number.isFinite(marker.lon), JSON.stringify(marker));
  for (const key of READ.filter((k) => k in marker)) {
    assert.ok(new RegExp(`data\\.${key}\\b|hasOwnProperty\\("${key}"\\)`).test(worldmapCode), `worldmap reads ${key}`);
  }
  assert.ok(worldmapIcons.includes(`.${marker.icon}:before`), `worldmap ships the icon ${marker.icon}`);
  if (marker.arc) {
    // rangerings(latlng, {ranges, pan, fov, color}) in worldmap.js
    for (const key of Object.keys(marker.arc)) assert.ok(['ranges', 'pan', 'fov', 'color'].includes(key), key);
    assert.ok(/var rangerings = function\(latlng, options\) \{\s*options = L\.extend\(\{\s*ranges:/.test(worldmapCode), 'worldmap draws arcs as range rings');
  }
  if (marker.weblink) assert.deepEqual(Object.keys(marker.weblink).sort(), ['name', 'target', 'url']);
}

describe(`world map markers and msg.location, in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();

  async function load(node: Record<string, unknown>) {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'n1', mapillary: 'cfg', bboxType: 'str', output: 'page', maxItems: 0, wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], config.credentials);
  }
  async function run(msg: Record<string, unknown> = { payload: 'go' }) {
    const result = collect();
    helper.getNode('n1').receive(msg);
    return result;
  }

  it('images: one marker per image, named by its id, at its place, with its view, thumbnail and link (page mode)', async () => {
    await load({ type: 'mapillary-images', bbox: AREAS.suburb.join(','), format: 'worldmap', fields: ['id'] });
    const { out, done } = await run();
    const markers = out.flatMap((m) => m.payload as Record<string, any>[]);
    assert.equal(markers.length, done.payload.items);
    assert.equal(new Set(markers.map((m) => m.name)).size, markers.length, 'names are unique');
    for (const marker of markers) {
      assertAccepted(marker);
      const image = world.image(marker.id)!;
      assert.equal(marker.name, `mapillary-image-${image.id}`);
      assert.deepEqual([marker.lon, marker.lat], image.geometry.coordinates);
      assert.equal(marker.bearing, image.compass_angle);
      assert.deepEqual(marker.arc, { pan: image.compass_angle, fov: image.is_pano ? 360 : 60, ranges: [15], color: '#05CB63' });
      assert.equal(typeof marker.photoUrl, 'string');
      assert.equal(marker.weblink.url, `https://www.mapillary.com/app/?pKey=${image.id}`);
      assert.equal(marker.captured, new Date(image.captured_at).toISOString());
    }
    assert.ok(markers.some((m) => m.arc.fov === 360) && markers.some((m) => m.arc.fov === 60), 'panoramas and others');
    // Again: the same names, so the map moves its markers instead of adding more.
    const again = (await run()).out.flatMap((m) => m.payload as Record<string, any>[]);
    assert.deepEqual(again.map((m) => m.name).sort(), markers.map((m) => m.name).sort());
  });

  it('every item message carries msg.location, in every format, also when geometry was not asked for', async () => {
    for (const format of ['json', 'geojson', 'worldmap']) {
      await helper.unload();
      await load({ type: 'mapillary-images', bbox: AREAS.suburb.join(','), format, output: 'item', fields: ['id', 'captured_at'] });
      const { out } = await run();
      assert.ok(out.length > 100);
      for (const msg of out) {
        const id = msg.payload.id;
        const [lon, lat] = world.image(String(id))!.geometry.coordinates;
        assert.deepEqual(msg.location, { lat, lon }, `${format}: ${id}`);
      }
      if (format === 'json') assert.equal(out[0]!.payload.geometry, undefined, 'geometry was not asked for: not in the item');
    }
  });

  it('map features: an icon and colour by class, a layer per kind, first and last seen', async () => {
    await load({ type: 'mapillary-features', bbox: AREAS.denseCentre.join(','), format: 'worldmap', output: 'item' });
    const { out } = await run();
    assert.ok(out.length > 100);
    const icons = new Set<string>();
    for (const { payload: marker, location } of out) {
      assertAccepted(marker);
      const feature = world.mapFeature(marker.id)!;
      assert.equal(marker.name, `mapillary-feature-${feature.id}`);
      assert.deepEqual(location, { lat: feature.geometry.coordinates[1], lon: feature.geometry.coordinates[0] });
      assert.equal(marker.value, feature.object_value);
      assert.equal(marker.layer, feature.object_type === 'trafficsign' ? 'Mapillary traffic signs' : 'Mapillary points');
      if (feature.object_value.startsWith('regulatory--')) assert.equal(marker.icon, 'fa-ban');
      if (feature.object_value.startsWith('warning--')) assert.equal(marker.icon, 'fa-exclamation-triangle');
      assert.equal(marker.firstSeen, new Date(feature.first_seen_at).toISOString());
      assert.equal(marker.lastSeen, new Date(feature.last_seen_at).toISOString());
      icons.add(marker.icon);
    }
    assert.ok(icons.size >= 3, [...icons].join(', '));
  });

  it('detections sit at their image: from the input items, or asked for when the input is bare ids', async () => {
    const images = world.imagesIn(AREAS.denseCentre).filter((i) => i.detections.length > 0).slice(0, 5);
    await load({ type: 'mapillary-detections', format: 'worldmap', output: 'item', geometry: 'raw' });
    for (const input of [images.map((i) => ({ id: i.id, geometry: i.geometry })), images.map((i) => i.id)]) {
      const { out } = await run({ payload: input });
      assert.equal(out.length, images.reduce((n, i) => n + i.detections.length, 0));
      for (const { payload: marker, location } of out) {
        assertAccepted(marker);
        const image = world.image(marker.image)!;
        assert.equal(marker.name, `mapillary-detection-${marker.id}`);
        assert.deepEqual([marker.lon, marker.lat], image.geometry.coordinates);
        assert.deepEqual(location, { lat: image.geometry.coordinates[1], lon: image.geometry.coordinates[0] });
      }
    }
  });
});
