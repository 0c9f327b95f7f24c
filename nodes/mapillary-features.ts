import { runHarvests } from './shared/harvest';
import { watchRecords } from './shared/resume';
import { DEFAULT_MAP_FEATURE_FIELDS } from '../src';
import { fieldsFor, filters, resolveArea } from './shared/inputs';
import type { Node, NodeAPI } from './shared/red';
import type { FeaturesDef } from './shared/types';

/** What a map feature's world-map marker shows: where, its class, when it was seen. */
const WORLDMAP_FIELDS = ['geometry', 'object_value', 'object_type', 'first_seen_at', 'last_seen_at', 'aligned_direction'];

const FILTERS = ['objectValues', 'layers', 'startFirstSeenAt', 'endFirstSeenAt', 'startLastSeenAt', 'endLastSeenAt'] as const;

export = function register(RED: NodeAPI): void {
  watchRecords(RED);
  function MapillaryFeatures(this: Node, def: FeaturesDef): void {
    RED.nodes.createNode(this, def);
    runHarvests(RED, this, def, ({ client, apiVersion, msg, walk }) => {
      const bbox = resolveArea(RED, this, def, msg);
      const f = filters(def, msg, FILTERS);
      if (apiVersion === 'v3') return client.v3.mapFeatures({ bbox, layers: f.layers, values: f.objectValues }, walk);
      return client.searchMapFeatures({
        bbox, objectValues: f.objectValues, startFirstSeenAt: f.startFirstSeenAt, endFirstSeenAt: f.endFirstSeenAt,
        startLastSeenAt: f.startLastSeenAt, endLastSeenAt: f.endLastSeenAt, fields: fieldsFor(def.fields, def.format, DEFAULT_MAP_FEATURE_FIELDS, WORLDMAP_FIELDS),
      }, walk);
    }, 'map feature', { kind: 'map features', open: (client, params, walk) => client.searchMapFeatures(params as { bbox: unknown }, walk) });
  }
  RED.nodes.registerType('mapillary-features', MapillaryFeatures);
};
