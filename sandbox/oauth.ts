/**
 * OAuth of the sandbox: the /connect consent page (authorization code for v4, implicit token in
 * the fragment for legacy v3), the exchange and refresh at POST /graph/token, and the check of
 * the tokens every API authenticates against. Issued tokens belong to the sandbox user.
 *
 * Issued user tokens are stateless: `MLYARsandbox<expiry ms>.<random>.<HMAC-SHA256>`, signed
 * with a fixed sandbox key. Any sandbox accepts what an earlier one issued until it expires, so
 * a token kept by Node-RED still works after `npm start` restarts with a new sandbox.
 *
 * The consent page answers with `Cross-Origin-Opener-Policy: same-origin`, as large sites do:
 * the window that opened it loses its handle (`popup.closed` turns true while it is open).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SANDBOX_CREDENTIALS } from './data';
import { errors, escapeHtml, json, type Reply } from './http';

export type Caller = { kind: 'client' } | { kind: 'user'; username: string };

const APP_NAME = 'Sandbox App';
const CODE_TTL_MS = 10 * 60_000;
const TOKEN_PREFIX = 'MLYARsandbox';
/** Signs issued user tokens. Fixed, and no secret: the sandbox is fake, its tokens open fake data. */
const TOKEN_SIGNING_KEY = 'streetflow/node-red-mapillary sandbox user tokens v1';
const ISSUED_TOKEN = /^MLYARsandbox(\d{1,15})\.[A-Za-z0-9_-]{1,64}\.([A-Za-z0-9_-]{43})$/;

const signature = (signed: string): string => createHmac('sha256', TOKEN_SIGNING_KEY).update(signed).digest('base64url');

/** A new user token of the sandbox, valid until `expiresAt` (epoch ms). */
export function issueToken(expiresAt: number): string {
  const signed = `${TOKEN_PREFIX}${Math.floor(expiresAt)}.${randomBytes(18).toString('base64url')}`;
  return `${signed}.${signature(signed)}`;
}

/** The expiry (epoch ms) of a token this or any other sandbox issued, if its signature holds; undefined otherwise. */
export function issuedTokenExpiry(token: string): number | undefined {
  const match = ISSUED_TOKEN.exec(token);
  if (!match) return undefined;
  // Compared as text: decoding would let the spare bits of the last character vary.
  const given = Buffer.from(match[2]);
  const expected = Buffer.from(signature(token.slice(0, token.length - match[2].length - 1)));
  return given.length === expected.length && timingSafeEqual(given, expected) ? Number(match[1]) : undefined;
}

interface PendingRequest { redirectUri: string; state: string | null; inFragment: boolean }

function page(status: number, title: string, content: string): Reply {
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${content}
</body></html>`;
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Cross-Origin-Opener-Policy': 'same-origin' },
    body,
  };
}

const errorPage = (message: string): Reply => page(400, 'Authorization failed', `<p id="error">${escapeHtml(message)}</p>`);

/** 302 to the app's callback, with the parameters in the query or (implicit flow) the fragment. */
function redirect(uri: string, params: Record<string, string | null>, inFragment: boolean): Reply {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== null);
  const target = new URL(uri);
  if (inFragment) target.hash = new URLSearchParams(entries).toString();
  else for (const [name, value] of entries) target.searchParams.set(name, value);
  return { status: 302, headers: { Location: target.href, 'Cache-Control': 'no-store' }, body: '' };
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** Body of POST /graph/token: JSON or form-encoded, values as strings. */
function tokenParams(contentType: string | undefined, body: string): Record<string, string> {
  if (!/json/i.test(contentType ?? '')) return Object.fromEntries(new URLSearchParams(body));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw errors.badParameter('The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw errors.badParameter('The request body must be a JSON object');
  return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, String(value)]));
}

export class OAuth {
  /** Unused authorization code -> expiry (epoch ms). */
  private readonly codes = new Map<string, number>();
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly options: { registeredRedirectUri?: string; tokenExpiresIn: number }) {}

  authenticate(token: string | null | undefined): Caller | undefined {
    if (token === SANDBOX_CREDENTIALS.clientToken) return { kind: 'client' };
    const issued = token ? issuedTokenExpiry(token) : undefined;
    if (token === SANDBOX_CREDENTIALS.userToken || (issued !== undefined && issued > Date.now())) {
      return { kind: 'user', username: SANDBOX_CREDENTIALS.username };
    }
    return undefined;
  }

  /** GET /connect: the consent page, or an error (page or redirect). */
  connect(query: URLSearchParams): Reply {
    const redirectUri = query.get('redirect_uri');
    if (redirectUri === null || !isHttpUrl(redirectUri)) return errorPage('The redirect_uri is missing or is not an absolute http(s) URL.');
    const registered = this.options.registeredRedirectUri;
    if (registered !== undefined && redirectUri !== registered) return errorPage('The redirect_uri does not match the one registered for this application.');
    const state = query.get('state');
    const responseType = query.get('response_type');
    const inFragment = responseType === 'token';
    if (query.get('client_id') !== SANDBOX_CREDENTIALS.clientId || (responseType !== 'code' && !inFragment)) {
      return redirect(redirectUri, { error: 'invalid_request', state }, inFragment);
    }
    const id = randomBytes(12).toString('hex');
    this.pending.set(id, { redirectUri, state, inFragment });
    return page(200, `Authorize ${APP_NAME}`, `<p>${APP_NAME} wants to read your Mapillary data
(scope <code>${escapeHtml(query.get('scope') ?? '')}</code>) as <b>${SANDBOX_CREDENTIALS.username}</b>.</p>
<form method="post" action="/connect/decision">
<input type="hidden" name="request" value="${id}">
<button id="approve" type="submit" name="decision" value="approve">Authorize</button>
<button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>`);
  }

  /** POST /connect/decision (form-encoded `request`, `decision`). */
  decide(body: string): Reply {
    const form = new URLSearchParams(body);
    const id = form.get('request') ?? '';
    const request = this.pending.get(id);
    if (!request) return errorPage('This authorization request is unknown or was already answered.');
    this.pending.delete(id);
    const { redirectUri, state, inFragment } = request;
    if (form.get('decision') !== 'approve') return redirect(redirectUri, { error: 'user_denied', state }, inFragment);
    if (inFragment) {
      const expiresIn = String(this.options.tokenExpiresIn);
      return redirect(redirectUri, { access_token: this.issue(), token_type: 'bearer', expires_in: expiresIn, state }, true);
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, Date.now() + CODE_TTL_MS);
    return redirect(redirectUri, { code, state }, false);
  }

  /** POST /graph/token: `authorization_code` or `refresh_token` (the current access token). */
  token(authorization: string | undefined, contentType: string | undefined, body: string): Reply {
    if (/^OAuth\s+(.+)$/i.exec(authorization ?? '')?.[1].trim() !== SANDBOX_CREDENTIALS.clientSecret) throw errors.invalidToken();
    const params = tokenParams(contentType, body);
    if (params.client_id !== SANDBOX_CREDENTIALS.clientId) throw errors.badParameter(`Invalid client_id '${params.client_id ?? ''}'`);
    if (params.grant_type === 'authorization_code') {
      const expiresAt = this.codes.get(params.code ?? '');
      this.codes.delete(params.code ?? '');
      if (expiresAt === undefined || expiresAt <= Date.now()) throw errors.badParameter('Invalid, expired or already used authorization code');
    } else if (params.grant_type === 'refresh_token') {
      if (this.authenticate(params.refresh_token)?.kind !== 'user') throw errors.badParameter('Invalid or expired refresh_token');
    } else {
      throw errors.badParameter(`Unsupported grant_type '${params.grant_type ?? ''}'`);
    }
    return json(200, { access_token: this.issue(), expires_in: this.options.tokenExpiresIn, token_type: 'bearer' });
  }

  private issue(): string {
    return issueToken(Date.now() + this.options.tokenExpiresIn * 1000);
  }
}
