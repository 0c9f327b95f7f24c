import { type BaseUrls, InvalidInputError, isMapillaryError, MapillaryClient, normaliseBaseUrls, type TokenSet } from '../../src';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envName, resolveSetting } from './env';
import type { Handler, Node, NodeAPI, Request, Response } from './red';
import type { UserTokens } from './user-tokens';

/**
 * Admin routes of the config dialog's "Authenticate with Mapillary" button and "Check" button.
 *
 * The editor calls `start` (permission checked), which binds a random, single-use state to
 * the config node id and answers the authorize URL. The popup's navigation to `callback`
 * carries no admin token, so the state is that route's only protection. The callback exchanges
 * the code with the client secret (held here, never sent in a GET), records the token as a
 * credential of the node and tells the editor through `status` (permission checked), which
 * never returns the token. v3 used the implicit flow: the token arrives in the URL fragment,
 * which only the browser sees, so the callback page posts it to `implicit` with the state.
 *
 * Where a credential may go: a credential the runtime holds (saved with a deployed config node,
 * or a `${VAR}` from the environment) goes only to the base URLs of the deployed config node
 * (Mapillary's own for a node not deployed yet); an address sent in the request is used only with
 * credentials typed in that same request (the dialog's unsaved values). So no request, however
 * forged, makes the runtime send a saved token or secret to an address of its choosing.
 */

/** Facts the config dialog needs too (exported to it as RED.settings.mapillaryConfigSignIn). */
export const SIGN_IN = {
  /** How long a sign-in state lasts: the dialog waits that long for the runtime's answer. */
  lifetimeMs: 10 * 60 * 1000,
  /** The error codes of the routes' answers, which the dialog words from its catalog. */
  errorCodes: ['denied', 'state', 'secret', 'network', 'failed', 'settings', 'token', 'no-token'],
} as const;
const STATE_TTL_MS = SIGN_IN.lifetimeMs;
/** Someone is waiting in the dialog: answer quickly rather than retry for long. */
const INTERACTIVE = { requestsPerMinute: 0, timeoutMs: 20_000, retry: { maxAttempts: 2, baseDelayMs: 300 } };

export type AuthErrorCode = (typeof SIGN_IN.errorCodes)[number];

interface Pending {
  nodeId: string;
  apiVersion: 'v4' | 'v3';
  clientId: string;
  clientSecret?: string;
  callbackUrl: string;
  baseUrls: Partial<BaseUrls>;
  expires: number;
  /** `pending` until the callback arrives; then the outcome, kept for the status route. */
  status: 'pending' | 'working' | 'done' | 'error';
  username?: string;
  error?: { code: AuthErrorCode; message: string };
}

/** What the routes read of a running config node. */
interface RunningConfig extends Node {
  client?: MapillaryClient;
}

/** A value the runtime holds for the credential named, rather than one typed in the request. */
interface Credential { value?: string; held: boolean }

/** The sign-in page templates, read once (the build copies them beside the compiled routes). */
const templates = new Map<string, string>();
function template(name: 'sign-in' | 'sign-in-v3'): string {
  let text = templates.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'pages', `${name}.html`), 'utf8');
    templates.set(name, text);
  }
  return text;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Text sent by the dialog, at most this long (ids, URLs, tokens, codes). */
const MAX_FIELD = 4096;

function describe(error: unknown): { code: AuthErrorCode; message: string } {
  if (isMapillaryError(error)) {
    if (error.code === 'MAPILLARY_AUTH') return { code: 'secret', message: error.message };
    if (error.code === 'MAPILLARY_NETWORK' || error.code === 'MAPILLARY_TIMEOUT') return { code: 'network', message: error.message };
    if (error.code === 'MAPILLARY_INVALID_INPUT') return { code: 'settings', message: error.message };
    return { code: 'failed', message: error.message };
  }
  return { code: 'failed', message: error instanceof Error ? error.message : String(error) };
}

export function registerAuthRoutes(RED: NodeAPI, tokens: UserTokens): void {
  const pending = new Map<string, Pending>();
  /**
   * Config nodes not deployed yet that got a token by signing in here, with the base URLs of that
   * sign-in: the token came from there, so it may go back there (Check before the first Deploy).
   */
  const signedIn = new Map<string, Partial<BaseUrls>>();

  /** A setting sent by the dialog; `${VAR}` is read from the environment; empty or `__PWRD__` → undefined. */
  function field(value: unknown, node?: Node | null): string | undefined {
    if (typeof value !== 'string' || value.length > MAX_FIELD || value === '__PWRD__') return undefined;
    return resolveSetting(RED, value, node);
  }

  /** The base URLs sent by the dialog. */
  function requestUrls(body: Record<string, unknown>, node?: Node | null): Partial<BaseUrls> {
    return { graph: field(body.graphUrl, node), v3: field(body.v3Url, node), authorize: field(body.authorizeUrl, node), token: field(body.tokenUrl, node) };
  }

  /**
   * The config node a request names: the running `mapillary-config` node, `null` for an id no
   * node has (a new config node, not deployed yet), `undefined` for any other node or a bad id.
   */
  function configNode(id: unknown): RunningConfig | null | undefined {
    if (typeof id !== 'string' || !/^[\w.-]{1,64}$/.test(id)) return undefined;
    const node = RED.nodes.getNode(id) as RunningConfig | null;
    if (!node) return RED.nodes.getCredentials(id) === undefined || signedIn.has(id) ? null : undefined;
    return node.type === 'mapillary-config' ? node : undefined;
  }

  /** A credential: typed in the request, else held by the runtime (a `${VAR}`, or saved with a running config node). */
  function credential(body: Record<string, unknown>, name: string, node: RunningConfig | null): Credential {
    const typed = body[name];
    if (typeof typed === 'string' && typed.trim() !== '' && typed !== '__PWRD__' && envName(typed) === undefined) {
      return { value: typed.length > MAX_FIELD ? undefined : typed.trim(), held: false };
    }
    if (typeof typed === 'string' && envName(typed) !== undefined) return { value: field(typed, node), held: true };
    return { value: node ? resolveSetting(RED, RED.nodes.getCredentials(node.id)?.[name], node) : undefined, held: true };
  }

  /**
   * The base URLs a held credential may go to: the running node's own; for a node not deployed,
   * those of the sign-in that gave it its token, else Mapillary's. The dialog's addresses must be
   * those (for the hosts in `keys`): an address changed in the dialog is used only with
   * credentials typed there too.
   */
  function trustedUrls(body: Record<string, unknown>, node: RunningConfig | null, keys: (keyof BaseUrls)[]): Partial<BaseUrls> {
    if (node && !node.client) throw new InvalidInputError(t('errors.not-running'));
    const trusted = node?.client?.baseUrls ?? normaliseBaseUrls(typeof body.id === 'string' ? signedIn.get(body.id) : undefined);
    const asked = normaliseBaseUrls(requestUrls(body, node));
    const changed = keys.filter((key) => asked[key] !== trusted[key]);
    if (changed.length > 0) throw new InvalidInputError(t('errors.changed-urls'));
    return { ...trusted };
  }

  const write = RED.auth.needsPermission('mapillary-config.write');
  const read = RED.auth.needsPermission('mapillary-config.read');
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`mapillary-config.auth.${key}`, subs);

  function sweep(): void {
    const now = Date.now();
    for (const [state, entry] of pending) if (entry.expires < now) pending.delete(state);
  }

  /** A client for one OAuth exchange, with the dialog's settings. */
  function clientFor(entry: Pick<Pending, 'clientId' | 'clientSecret' | 'baseUrls'>, userToken?: string): MapillaryClient {
    return new MapillaryClient({ clientId: entry.clientId, clientSecret: entry.clientSecret, userToken, baseUrls: entry.baseUrls, ...INTERACTIVE });
  }

  /** Records the token for the node and learns the user name; never lets the token reach a response. */
  async function finish(entry: Pending, issued: TokenSet, client: MapillaryClient): Promise<void> {
    if (!RED.nodes.getNode(entry.nodeId)) signedIn.set(entry.nodeId, entry.baseUrls);
    await tokens.adopt(entry.nodeId, issued);
    if (entry.apiVersion === 'v4') entry.username = (await client.me()).username;
    entry.status = 'done';
  }

  /** The page the sign-in window ends on (v3: hands the fragment's token over): a static template, its values HTML-escaped. */
  function page(res: Response, state: string, ok: boolean, message: string, kind: 'sign-in' | 'sign-in-v3' = 'sign-in'): void {
    const values: Record<string, string> = { state, ok: String(ok), message };
    res.set('Content-Type', 'text/html; charset=utf-8').set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    res.send(template(kind).replace(/\{\{(\w+)\}\}/g, (_match, key: string) => escapeHtml(values[key] ?? '')));
  }

  function consume(state: unknown): Pending | undefined {
    sweep();
    const entry = typeof state === 'string' ? pending.get(state) : undefined;
    if (!entry || entry.status !== 'pending') return undefined;
    entry.status = 'working';
    return entry;
  }

  const start: Handler = (req, res) => {
    sweep();
    const body = req.body ?? {};
    const node = configNode(body.id);
    const apiVersion = body.apiVersion === 'v3' ? 'v3' : 'v4';
    const clientId = node === undefined ? undefined : credential(body, 'clientId', node).value;
    const secret = node === undefined ? { held: false } as Credential : credential(body, 'clientSecret', node);
    const callbackUrl = field(body.callbackUrl);
    let problem: string | undefined;
    if (node === undefined) problem = t('errors.no-node');
    else if (!clientId) problem = t('errors.no-client-id');
    else if (apiVersion === 'v4' && !secret.value) problem = t('errors.no-secret');
    else if (!callbackUrl || !/^https?:\/\//.test(callbackUrl)) problem = t('errors.no-callback');
    if (problem) return res.status(400).json({ error: { code: 'settings', message: problem } });
    try {
      // A held secret goes only to the node's own token URL; the new token, to its Graph API.
      const baseUrls = apiVersion === 'v4' && secret.held ? trustedUrls(body, node!, ['token', 'graph']) : requestUrls(body, node);
      const state = randomBytes(24).toString('base64url');
      const entry: Pending = {
        nodeId: String(body.id), apiVersion, clientId: clientId!, clientSecret: apiVersion === 'v4' ? secret.value : undefined, callbackUrl: callbackUrl!, baseUrls,
        expires: Date.now() + STATE_TTL_MS, status: 'pending',
      };
      const client = clientFor(entry);
      const authorizeUrl = client.authorizeUrl({ redirectUri: entry.callbackUrl, state, apiVersion });
      void client.close().catch(() => undefined);
      pending.set(state, entry);
      res.json({ state, authorizeUrl });
    } catch (error) {
      res.status(400).json({ error: describe(error) });
    }
  };

  const callback: Handler = (req, res) => {
    const { code, state, error } = req.query;
    if (code === undefined && error === undefined) {
      // v3 implicit flow: the token is in the fragment; the page hands it over with the state.
      return page(res, '', false, t('page.working'), 'sign-in-v3');
    }
    const entry = consume(state);
    if (!entry) return page(res, String(state ?? ''), false, t('errors.state'));
    if (error !== undefined || typeof code !== 'string') {
      entry.status = 'error';
      entry.error = error === 'user_denied' ? { code: 'denied', message: t('errors.denied') } : { code: 'failed', message: t('errors.provider', { error: String(error).slice(0, 60) }) };
      return page(res, String(state), false, entry.error.message);
    }
    const client = clientFor(entry);
    client.exchangeCode(code, entry.callbackUrl)
      .then((tokens) => finish(entry, tokens, client))
      .then(() => page(res, String(state), true, entry.username ? t('page.done-user', { username: entry.username }) : t('page.done')))
      .catch((failure: unknown) => {
        entry.status = 'error';
        entry.error = describe(failure);
        page(res, String(state), false, t(`errors.${entry.error.code}`));
      })
      .catch(() => undefined)
      .finally(() => void client.close().catch(() => undefined));
  };

  const implicit: Handler = (req, res) => {
    const body = req.body ?? {};
    // Only a v3 sign-in is handed over here: a v4 state posted here stays usable (not spoiled).
    const waiting = typeof body.state === 'string' ? pending.get(body.state) : undefined;
    const entry = waiting?.apiVersion === 'v3' ? consume(body.state) : undefined;
    if (!entry) return res.status(400).json({ ok: false, message: t('errors.state') });
    const token = typeof body.access_token === 'string' && body.access_token.length <= MAX_FIELD ? body.access_token.trim() || undefined : undefined;
    if (!token) {
      entry.status = 'error';
      entry.error = body.error === 'user_denied' ? { code: 'denied', message: t('errors.denied') } : { code: 'failed', message: t('errors.provider', { error: String(body.error ?? '').slice(0, 60) }) };
      return res.status(400).json({ ok: false, message: entry.error.message });
    }
    const expiresIn = Number(body.expires_in);
    const issued: TokenSet = { accessToken: token, tokenType: 'bearer', expiresAt: expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined };
    const client = clientFor(entry);
    finish(entry, issued, client)
      .then(() => res.json({ ok: true, message: t('page.done') }))
      .catch((failure: unknown) => {
        entry.status = 'error';
        entry.error = describe(failure);
        res.status(500).json({ ok: false, message: t(`errors.${entry.error.code}`) });
      })
      .catch(() => undefined)
      .finally(() => void client.close().catch(() => undefined));
  };

  const status: Handler = (req, res) => {
    sweep();
    const entry = typeof req.query.state === 'string' ? pending.get(req.query.state) : undefined;
    if (!entry) return res.json({ status: 'error', error: { code: 'state', message: t('errors.state') } });
    const working = entry.status === 'pending' || entry.status === 'working';
    res.json({ status: working ? 'pending' : entry.status, username: entry.username, error: entry.error });
  };

  const check: Handler = (req: Request, res: Response) => {
    const body = req.body ?? {};
    const node = configNode(body.id);
    if (node === undefined) return res.status(400).json({ error: { code: 'settings', message: t('errors.no-node') } });
    const typed = credential(body, 'userToken', node);
    // Nothing typed: the token the runtime uses for this node (a kept or refreshed one included).
    const token = typed.held && envName(body.userToken) === undefined ? tokens.current(String(body.id)) : typed.value;
    if (!token) return res.status(400).json({ error: { code: 'no-token', message: t('errors.no-token') } });
    let client: MapillaryClient;
    try {
      const baseUrls = typed.held ? trustedUrls(body, node, ['graph']) : requestUrls(body, node);
      client = new MapillaryClient({ userToken: token, baseUrls, ...INTERACTIVE });
    } catch (error) {
      return res.status(400).json({ error: describe(error) });
    }
    client.me()
      .then((me) => res.json({ username: me.username }))
      .catch((failure: unknown) => {
        const error = describe(failure);
        res.json({ error: { code: error.code === 'secret' ? 'token' : error.code, message: error.code === 'secret' ? t('errors.token') : t(`errors.${error.code}`) } });
      })
      .catch(() => undefined)
      .finally(() => void client.close().catch(() => undefined));
  };

  RED.httpAdmin.post('/mapillary/auth/start', write, start);
  RED.httpAdmin.get('/mapillary/auth/callback', callback);
  RED.httpAdmin.post('/mapillary/auth/implicit', implicit);
  RED.httpAdmin.get('/mapillary/auth/status', read, status);
  RED.httpAdmin.post('/mapillary/auth/check', write, check);
}
