import { FIELD_CHOICES, InvalidInputError, MapillaryClient, type MapillaryClientOptions, type Range, SETTING_RANGES } from '../src';
import { resolveSetting } from './shared/env';
import { registerAuthRoutes, SIGN_IN } from './shared/oauth-routes';
import type { Node, NodeAPI } from './shared/red';
import type { ConfigDef, MapillaryConfigNode } from './shared/types';
import { TokenStore, UserTokens } from './shared/user-tokens';

interface ProxyNode { url?: string; noproxy?: string[]; credentials?: { username?: string; password?: string } }

const CREDENTIALS = {
  clientId: { type: 'text' },
  clientToken: { type: 'password' },
  clientSecret: { type: 'password' },
  userToken: { type: 'password' },
  userTokenExpiresAt: { type: 'password' },
} as const;

/** A number setting within its range (a `${VAR}` is read from the environment), or the range's default when empty. */
function num(RED: NodeAPI, node: Node, value: unknown, range: Range, what: string): number {
  const given = typeof value === 'number' ? value : resolveSetting(RED, value, node);
  if (given === undefined) return range.default;
  const n = typeof given === 'number' ? given : given.length <= 32 && /^\d+(\.\d+)?$/.test(given) ? Number(given) : Number.NaN;
  if (!Number.isFinite(n) || n < range.min || n > range.max) {
    throw new InvalidInputError(`Mapillary settings: ${what} must be a number from ${range.min} to ${range.max.toLocaleString('en-US')}; got ${String(value).slice(0, 40)}`);
  }
  return n;
}

export = function register(RED: NodeAPI): void {
  const tokens = new UserTokens(RED, new TokenStore(RED));
  registerAuthRoutes(RED, tokens);

  function proxyOption(def: ConfigDef): MapillaryClientOptions['proxy'] {
    const proxyNode = def.proxy ? (RED.nodes.getNode(def.proxy) as ProxyNode | null) : null;
    if (!proxyNode?.url) return 'env';
    let url: URL;
    try {
      url = new URL(proxyNode.url);
    } catch {
      throw new InvalidInputError('Mapillary settings: the proxy URL is not a URL');
    }
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
    const id = this.id;
    try {
      const user = tokens.start(this);
      const client = new MapillaryClient({
        clientId: resolveSetting(RED, creds.clientId, this),
        clientToken: resolveSetting(RED, creds.clientToken, this),
        clientSecret: resolveSetting(RED, creds.clientSecret, this),
        userToken: user.token,
        userTokenExpiresAt: user.expiresAt,
        onUserToken: async (refreshed) => {
          try {
            await tokens.adopt(id, refreshed);
          } catch (error) {
            this.warn(RED._('mapillary-config.errors.keep-token', { message: (error as Error).message }));
          }
        },
        baseUrls: {
          graph: resolveSetting(RED, def.graphUrl, this), v3: resolveSetting(RED, def.v3Url, this), tiles: resolveSetting(RED, def.tilesUrl, this),
          authorize: resolveSetting(RED, def.authorizeUrl, this), token: resolveSetting(RED, def.tokenUrl, this),
        },
        timeoutMs: num(RED, this, def.timeout, SETTING_RANGES.timeout, 'timeout (seconds)') * 1000,
        concurrency: Math.floor(num(RED, this, def.concurrency, SETTING_RANGES.concurrency, 'concurrency')),
        requestsPerMinute: num(RED, this, def.requestsPerMinute, SETTING_RANGES.requestsPerMinute, 'requests per minute'),
        proxy: proxyOption(def),
      });
      this.client = client;
      // A token from the Authenticate button, while this node runs: used at once, no redeploy.
      tokens.attach(id, client);
    } catch (error) {
      this.configError = error instanceof InvalidInputError ? error : new InvalidInputError(RED._('mapillary-config.errors.settings'));
      this.error(RED._('mapillary-config.errors.invalid', { message: this.configError.message }));
    }
    this.on('close', (_removed, done) => {
      const client = this.client;
      this.client = undefined;
      if (client) {
        tokens.detach(id, client);
        client.close().then(done, done);
      } else done();
    });
  }

  RED.nodes.registerType('mapillary-config', MapillaryConfig, {
    credentials: CREDENTIALS,
    // The facts the editor needs, defined once here in the runtime; it reads them as
    // RED.settings.mapillaryConfigLimits (ranges and defaults), .mapillaryConfigFields (the
    // fields each search offers) and .mapillaryConfigSignIn (lifetime and error codes).
    settings: {
      mapillaryConfigLimits: { value: SETTING_RANGES, exportable: true },
      mapillaryConfigFields: { value: FIELD_CHOICES, exportable: true },
      mapillaryConfigSignIn: { value: SIGN_IN, exportable: true },
    },
  });
};
