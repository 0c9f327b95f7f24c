import { MapillaryClient, type MapillaryClientOptions } from '../src/client';
import { InvalidInputError, type MapillaryError } from '../src/transport/errors';
import type { Node, NodeAPI, NodeDef } from './shared/red';
import { envName } from './shared/env';
import { type LiveConfig, registerAuthRoutes } from './shared/oauth-routes';
import { formatExpiry, parseExpiry, rememberUserToken, TokenStore } from './shared/user-tokens';

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

/** What flow nodes see of a `mapillary-config` node. */
export interface MapillaryConfigNode extends Node, LiveConfig {
  apiVersion: 'v4' | 'v3';
  /** The shared client, or the reason there is none (bad settings). */
  client?: MapillaryClient;
  configError?: MapillaryError;
}

interface ProxyNode { url?: string; noproxy?: string[]; credentials?: { username?: string; password?: string } }

const CREDENTIALS = {
  clientId: { type: 'text' },
  clientToken: { type: 'password' },
  clientSecret: { type: 'password' },
  userToken: { type: 'password' },
  userTokenExpiresAt: { type: 'password' },
} as const;

/** A setting still of the form `${VAR}` names an environment variable that is not set: empty. */
function unsetEnv(value: unknown): string | undefined {
  return typeof value === 'string' && envName(value) === undefined ? value : undefined;
}

/** A number setting, or `fallback` when empty. */
function num(value: unknown, fallback: number, what: string): number {
  const given = typeof value === 'string' ? unsetEnv(value)?.trim() : value;
  if (given === undefined || given === null || given === '') return fallback;
  const n = Number(given);
  if (!Number.isFinite(n) || n < 0) throw new InvalidInputError(`Mapillary settings: ${what} must be a number; got ${String(value).slice(0, 40)}`);
  return n;
}

export = function register(RED: NodeAPI): void {
  const store = new TokenStore(RED);
  registerAuthRoutes(RED, store);
  /** The user token each config node last ran with in this process (to tell a Deploy that removed it). */
  const lastRun = new Map<string, string | undefined>();

  /** A credential whose whole value is `${NAME}` comes from the environment, like other settings. */
  function fromEnv(node: Node, value: string | undefined): string | undefined {
    const name = envName(value);
    return name ? String(RED.util.evaluateNodeProperty(name, 'env', node, null) ?? '') : value;
  }

  function proxyOption(def: ConfigDef): MapillaryClientOptions['proxy'] {
    const proxyNode = def.proxy ? (RED.nodes.getNode(def.proxy) as ProxyNode | null) : null;
    if (!proxyNode?.url) return 'env';
    const url = new URL(proxyNode.url);
    if (proxyNode.credentials?.username) {
      url.username = encodeURIComponent(proxyNode.credentials.username);
      url.password = encodeURIComponent(proxyNode.credentials.password ?? '');
    }
    return { url: url.href, noProxy: proxyNode.noproxy ?? [] };
  }

  function MapillaryConfig(this: MapillaryConfigNode, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    this.apiVersion = def.apiVersion === 'v3' ? 'v3' : 'v4';
    const creds = this.credentials ?? {};
    const credentialToken = fromEnv(this, creds.userToken);
    // Restarted by a Deploy that removed the token the node ran with: the user wants none.
    if (!credentialToken && lastRun.get(this.id)) store.forget(this.id);
    // A token obtained or refreshed since the credentials were saved, kept across a restart.
    const kept = store.resolve(this.id, credentialToken);
    if (kept && !envName(creds.userToken)) {
      void RED.nodes.addCredentials(this.id, { ...creds, userToken: kept.token, userTokenExpiresAt: formatExpiry(kept.expiresAt, kept.token) });
    }
    let current = kept?.token ?? credentialToken;
    lastRun.set(this.id, current);
    try {
      this.client = new MapillaryClient({
        clientId: fromEnv(this, creds.clientId),
        clientToken: fromEnv(this, creds.clientToken),
        clientSecret: fromEnv(this, creds.clientSecret),
        userToken: current,
        userTokenExpiresAt: kept ? kept.expiresAt : parseExpiry(creds.userTokenExpiresAt, credentialToken),
        onUserToken: async (tokens) => {
          try {
            await rememberUserToken(RED, store, this.id, tokens, current);
          } catch (error) {
            this.warn(RED._('mapillary-config.errors.keep-token', { message: (error as Error).message }));
          }
          current = tokens.accessToken;
          lastRun.set(this.id, current);
        },
        baseUrls: {
          graph: unsetEnv(def.graphUrl), v3: unsetEnv(def.v3Url), tiles: unsetEnv(def.tilesUrl),
          authorize: unsetEnv(def.authorizeUrl), token: unsetEnv(def.tokenUrl),
        },
        timeoutMs: num(def.timeout, 30, 'timeout') * 1000,
        concurrency: num(def.concurrency, 4, 'concurrency'),
        requestsPerMinute: num(def.requestsPerMinute, 6000, 'requests per minute'),
        proxy: proxyOption(def),
      });
      // A token from the Authenticate button, while this node runs: used at once, no redeploy.
      this.adoptUserToken = (tokens) => {
        this.client?.setUserToken(tokens.accessToken, tokens.expiresAt);
        current = tokens.accessToken;
        lastRun.set(this.id, current);
      };
    } catch (error) {
      this.configError = error instanceof InvalidInputError ? error : new InvalidInputError(RED._('mapillary-config.errors.settings'));
      this.error(RED._('mapillary-config.errors.invalid', { message: this.configError.message }));
    }
    this.on('close', (_removed, done) => {
      const client = this.client;
      this.client = undefined;
      if (client) client.close().then(done, done);
      else done();
    });
  }

  RED.nodes.registerType('mapillary-config', MapillaryConfig, { credentials: CREDENTIALS });
};
