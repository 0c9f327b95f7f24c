/**
 * The settings of each node type as the editor saves them (every value may be missing in a flow
 * written by hand or by an older version), and what flow nodes see of a config node.
 */
import type { MapillaryClient, MapillaryError } from '../../src';
import type { Node, NodeDef } from './red';

/** A `mapillary-config` node's settings (credentials are apart, in `node.credentials`). */
export interface ConfigDef extends NodeDef {
  apiVersion?: string;
  graphUrl?: string;
  v3Url?: string;
  tilesUrl?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  timeout?: string | number;
  concurrency?: string | number;
  requestsPerMinute?: string | number;
  proxy?: string;
}

/** What flow nodes see of a running `mapillary-config` node. */
export interface MapillaryConfigNode extends Node {
  apiVersion: 'v4' | 'v3';
  /** The shared client, or the reason there is none (bad settings). */
  client?: MapillaryClient;
  configError?: MapillaryError;
}

/** Settings every flow node has. */
export interface FlowNodeDef extends NodeDef {
  mapillary?: string;
  output?: string;
  format?: string;
  maxItems?: string | number;
  maxRequests?: string | number;
  /** Field names: the editor's checklist (array) or a comma string. */
  fields?: string[] | string;
  /** Area harvests (v4): keep a record of the cells done, to go on after a stop. */
  resume?: boolean | string;
  /** Area harvests (v4): send only what changed since the last complete run. */
  changes?: boolean | string;
}

/** Flow nodes that search an area: the Area TypedInput. */
export interface AreaDef extends FlowNodeDef {
  bbox?: string;
  bboxType?: string;
}

export interface ImagesDef extends AreaDef {
  startCapturedAt?: string;
  endCapturedAt?: string;
  creatorUsername?: string;
  isPano?: string;
  make?: string;
  model?: string;
  organizationId?: string;
  sequenceId?: string;
  /** Count dense cells with coverage tiles (v4); on unless false. */
  coverageTiles?: boolean | string;
}

export interface DetectionsDef extends AreaDef {
  /** Where the ids come from: a TypedInput (msg.payload by default). */
  source?: string;
  sourceType?: string;
  geometry?: string;
  /** v3 mode. */
  layers?: string;
  values?: string;
}

export interface FeaturesDef extends AreaDef {
  objectValues?: string;
  layers?: string;
  startFirstSeenAt?: string;
  endFirstSeenAt?: string;
  startLastSeenAt?: string;
  endLastSeenAt?: string;
}
