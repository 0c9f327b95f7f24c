import { runHarvests } from './shared/harvest';
import { watchRecords } from './shared/resume';
import { DEFAULT_IMAGE_FIELDS } from '../src';
import { fieldsFor, filters, optionalBoolean, resolveArea } from './shared/inputs';
import type { Node, NodeAPI } from './shared/red';
import type { ImagesDef } from './shared/types';

/** What an image's world-map marker shows: where, which way, when, and a thumbnail. */
const WORLDMAP_FIELDS = ['geometry', 'compass_angle', 'is_pano', 'captured_at', 'thumb_256_url'];

const FILTERS = ['startCapturedAt', 'endCapturedAt', 'creatorUsername', 'isPano', 'make', 'model', 'organizationId', 'sequenceId'] as const;

export = function register(RED: NodeAPI): void {
  watchRecords(RED);
  function MapillaryImages(this: Node, def: ImagesDef): void {
    RED.nodes.createNode(this, def);
    runHarvests(RED, this, def, ({ client, apiVersion, msg, walk }) => {
      const bbox = resolveArea(RED, this, def, msg);
      const f = filters(def, msg, FILTERS);
      const isPano = optionalBoolean(f.isPano, 'panorama');
      if (apiVersion === 'v3') {
        return client.v3.images({
          bbox, startTime: f.startCapturedAt, endTime: f.endCapturedAt, usernames: f.creatorUsername,
          organizationKeys: f.organizationId, sequenceKeys: f.sequenceId, pano: isPano,
        }, walk);
      }
      return client.searchImages({
        bbox, startCapturedAt: f.startCapturedAt, endCapturedAt: f.endCapturedAt, creatorUsername: f.creatorUsername as string | undefined,
        isPano, make: f.make as string | undefined, model: f.model as string | undefined, organizationId: f.organizationId,
        sequenceIds: f.sequenceId, fields: fieldsFor(def.fields, def.format, DEFAULT_IMAGE_FIELDS, WORLDMAP_FIELDS),
        coverageTiles: def.coverageTiles !== false && def.coverageTiles !== 'false',
      }, walk);
    }, 'image', { kind: 'images', open: (client, params, walk) => client.searchImages(params, walk) });
  }
  RED.nodes.registerType('mapillary-images', MapillaryImages);
};
