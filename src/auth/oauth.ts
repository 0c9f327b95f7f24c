import type { Transport } from '../transport/transport';
import { InvalidInputError, MalformedResponseError } from '../errors';
import type { CallOptions } from '../transport/types';

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  /** Seconds, as the API said. */
  expiresIn?: number;
  /** Epoch milliseconds. */
  expiresAt?: number;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  /** Random, single-use: the only protection of the callback. */
  state: string;
  /** v4 (default): authorization-code flow; v3: implicit flow (token in the URL fragment). */
  apiVersion?: 'v4' | 'v3';
  /** v4 scopes: read, write, upload (default read). */
  scope?: string;
}

/** The page the user's browser opens to approve the application. */
export function authorizeUrl(transport: Transport, params: AuthorizeParams): string {
  for (const key of ['clientId', 'redirectUri', 'state'] as const) {
    if (!params[key]) throw new InvalidInputError(`authorize: ${key} is needed`);
  }
  const v3 = params.apiVersion === 'v3';
  const url = transport.url('authorize', '', {
    client_id: params.clientId,
    response_type: v3 ? 'token' : 'code',
    scope: params.scope ?? (v3 ? 'private:read' : 'read'),
    state: params.state,
    redirect_uri: params.redirectUri,
  });
  return url.href;
}

/** Expiry time (epoch ms) of a token that lasts `expiresIn` seconds from `now`. */
export function expiryTime(expiresIn: number | undefined, now = Date.now()): number | undefined {
  return expiresIn !== undefined && Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : undefined;
}

/** Whether a token expiring at `expiresAt` should be refreshed now (default: within 7 days). */
export function needsRefresh(expiresAt: number | undefined, now = Date.now(), marginMs = 7 * 24 * 3600 * 1000): boolean {
  return expiresAt !== undefined && expiresAt - now <= marginMs;
}

async function tokenRequest(transport: Transport, form: Record<string, string>, call: CallOptions): Promise<TokenSet> {
  const url = new URL(transport.baseUrls.token);
  const { data } = await transport.json<Record<string, unknown>>({ api: 'token', url, method: 'POST', form }, call);
  const endpoint = transport.endpointName({ api: 'token', url, method: 'POST' });
  if (typeof data?.access_token !== 'string' || data.access_token === '') {
    throw new MalformedResponseError(`Mapillary ${endpoint}: the answer holds no access_token`, { endpoint });
  }
  const expiresIn = typeof data.expires_in === 'number' ? data.expires_in : Number(data.expires_in);
  const ok = Number.isFinite(expiresIn) && expiresIn > 0;
  return {
    accessToken: data.access_token,
    tokenType: typeof data.token_type === 'string' ? data.token_type : 'bearer',
    expiresIn: ok ? expiresIn : undefined,
    expiresAt: ok ? expiryTime(expiresIn) : undefined,
  };
}

/** Exchanges an authorization code (v4) for a user token; the secret goes in a header, never a URL. */
export function exchangeCode(transport: Transport, code: string, redirectUri?: string, call: CallOptions = {}): Promise<TokenSet> {
  if (!code) throw new InvalidInputError('token exchange: the authorization code is empty');
  if (!transport.clientId) throw new InvalidInputError('token exchange: the client id is needed');
  const form: Record<string, string> = { grant_type: 'authorization_code', client_id: transport.clientId, code };
  if (redirectUri) form.redirect_uri = redirectUri;
  return tokenRequest(transport, form, call);
}

/** Refreshes a user token: Mapillary takes the current access token as the refresh token. */
export function refreshToken(transport: Transport, currentToken: string, call: CallOptions = {}): Promise<TokenSet> {
  if (!currentToken) throw new InvalidInputError('token refresh: there is no token to refresh');
  if (!transport.clientId) throw new InvalidInputError('token refresh: the client id is needed');
  return tokenRequest(transport, { grant_type: 'refresh_token', client_id: transport.clientId, refresh_token: currentToken }, call);
}
