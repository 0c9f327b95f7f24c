import type { TokenSet } from '../../src';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envName, resolveSetting } from './env';
import type { Node, NodeAPI } from './red';

/**
 * User tokens obtained or refreshed at runtime. Node-RED writes credentials only on Deploy, so a
 * token refreshed while flows run would be lost on restart. Each new token is therefore also
 * kept, encrypted, in `<userDir>/.mapillary-tokens.json`, tagged with a digest of the credential
 * it replaces: after a restart, a config node whose credential is still that one uses the kept
 * token; once the user deploys another token, the kept one is dropped.
 */

interface Entry { token: string; expiresAt?: number; replaces: string }

export const digest = (value: string | undefined): string => createHash('sha256').update(value ?? '').digest('hex').slice(0, 16);

/** `userTokenExpiresAt` credential: "<epoch ms>:<digest of its token>", so a hand-typed token never inherits an old expiry. */
export function formatExpiry(expiresAt: number | undefined, token: string): string {
  return expiresAt ? `${expiresAt}:${digest(token)}` : '';
}
export function parseExpiry(value: string | undefined, token: string | undefined): number | undefined {
  const match = /^(\d+)(?::([0-9a-f]+))?$/.exec(value?.trim() ?? '');
  if (!match || !token || (match[2] !== undefined && match[2] !== digest(token))) return undefined;
  return Number(match[1]);
}

export class TokenStore {
  private readonly file?: string;
  private readonly key?: Buffer;

  constructor(private readonly RED: NodeAPI) {
    const dir = RED.settings.userDir;
    if (!dir) return;
    this.file = join(dir, '.mapillary-tokens.json');
    const secret = RED.settings.credentialSecret;
    this.key = createHash('sha256').update(typeof secret === 'string' && secret ? secret : this.ownKey(dir)).digest();
  }

  /**
   * The token to use at start: the kept one if it replaced exactly the credential given (also
   * none: a first token obtained before any Deploy). Otherwise the entry is stale and dropped.
   */
  resolve(nodeId: string, credentialToken: string | undefined): Entry | undefined {
    const entry = this.read()[nodeId];
    if (entry && entry.replaces === digest(credentialToken)) return entry;
    if (entry) this.forget(nodeId);
    return undefined;
  }

  forget(nodeId: string): void {
    const entries = this.read();
    if (!(nodeId in entries)) return;
    delete entries[nodeId];
    this.write(entries);
  }

  /**
   * Keeps a new token of a config node whose credentials now hold `currentToken`. When that one
   * came from the store itself (refreshed again before any Deploy), the new entry still names the
   * credential saved on disk as the one it replaces.
   */
  keep(nodeId: string, tokens: TokenSet, currentToken: string | undefined): void {
    const entries = this.read();
    const previous = entries[nodeId];
    const replaces = previous && currentToken === previous.token ? previous.replaces : digest(currentToken);
    entries[nodeId] = { token: tokens.accessToken, expiresAt: tokens.expiresAt, replaces };
    this.write(entries);
  }

  private ownKey(dir: string): string {
    const keyFile = join(dir, '.mapillary-tokens.key');
    if (!existsSync(keyFile)) {
      writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    }
    return readFileSync(keyFile, 'utf8').trim();
  }

  private read(): Record<string, Entry> {
    if (!this.file || !this.key || !existsSync(this.file)) return {};
    try {
      const { iv, tag, data } = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv!, 'base64'));
      decipher.setAuthTag(Buffer.from(tag!, 'base64'));
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(data!, 'base64')), decipher.final()]).toString('utf8'));
    } catch {
      this.RED.log.warn('mapillary: the kept user tokens could not be read (credential secret changed?); they are ignored');
      return {};
    }
  }

  private write(entries: Record<string, Entry>): void {
    if (!this.file || !this.key) return;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(entries), 'utf8'), cipher.final()]);
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify({ iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }), { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.file);
  }
}

/** What a running config node's client offers the owner: the token it sends. */
export interface TokenUser {
  setUserToken(token: string | undefined, expiresAt?: number): void;
}

/**
 * The one owner of every config node's user token: the saved credential, the kept one (store),
 * the one in use, and each new one (from the Authenticate button or a refresh). Config nodes
 * ask it which token to start with; the admin routes ask it which token a node uses (Check) and
 * give it the token of a sign-in; the client tells it of a refresh.
 */
export class UserTokens {
  /** The token each config node runs with (kept across redeploys, to tell a Deploy that removed it). */
  private readonly inUse = new Map<string, string | undefined>();
  private readonly users = new Map<string, TokenUser>();

  constructor(private readonly RED: NodeAPI, private readonly store: TokenStore) {}

  /** At the start of config node `node`: the token to use and its expiry. */
  start(node: Node): { token?: string; expiresAt?: number } {
    const creds = node.credentials ?? {};
    const credentialToken = resolveSetting(this.RED, creds.userToken, node);
    // Restarted by a Deploy that removed the token the node ran with: the user wants none.
    if (!credentialToken && this.inUse.get(node.id)) this.store.forget(node.id);
    // A token obtained or refreshed since the credentials were saved, kept across a restart.
    const kept = this.store.resolve(node.id, credentialToken);
    if (kept && !envName(creds.userToken)) {
      void Promise.resolve(this.RED.nodes.addCredentials(node.id, { ...creds, userToken: kept.token, userTokenExpiresAt: formatExpiry(kept.expiresAt, kept.token) }))
        .catch(() => undefined);
    }
    const token = kept?.token ?? credentialToken;
    this.inUse.set(node.id, token);
    return { token, expiresAt: kept ? kept.expiresAt : parseExpiry(creds.userTokenExpiresAt, credentialToken) };
  }

  /** The running node's client, which gets every new token at once (no redeploy). */
  attach(nodeId: string, user: TokenUser): void {
    this.users.set(nodeId, user);
  }

  detach(nodeId: string, user: TokenUser): void {
    if (this.users.get(nodeId) === user) this.users.delete(nodeId);
  }

  /** The user token config node `nodeId` uses now; for a node not running, its kept or saved one. */
  current(nodeId: string): string | undefined {
    if (this.inUse.has(nodeId) && this.users.has(nodeId)) return this.inUse.get(nodeId);
    const saved = resolveSetting(this.RED, this.RED.nodes.getCredentials(nodeId)?.userToken);
    return this.store.resolve(nodeId, saved)?.token ?? saved;
  }

  /**
   * A new user token of config node `nodeId`: kept in the store (across restarts without a
   * Deploy), recorded as its runtime credential (written on the next Deploy) unless that is an
   * environment reference, and used at once by the running node.
   */
  async adopt(nodeId: string, tokens: TokenSet): Promise<void> {
    const credentials = this.RED.nodes.getCredentials(nodeId) ?? {};
    const replaced = this.inUse.has(nodeId) ? this.inUse.get(nodeId) : resolveSetting(this.RED, credentials.userToken);
    this.inUse.set(nodeId, tokens.accessToken);
    this.users.get(nodeId)?.setUserToken(tokens.accessToken, tokens.expiresAt);
    this.store.keep(nodeId, tokens, replaced);
    // A `${VAR}` credential stays one: its successors are kept only in the store.
    if (envName(credentials.userToken)) return;
    await this.RED.nodes.addCredentials(nodeId, {
      ...credentials,
      userToken: tokens.accessToken,
      userTokenExpiresAt: formatExpiry(tokens.expiresAt, tokens.accessToken),
    });
  }
}
