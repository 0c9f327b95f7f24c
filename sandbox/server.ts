/**
 * The sandbox: a Mapillary-compatible HTTP server on 127.0.0.1 (node:http only) serving the
 * deterministic world of ./data. Routes: v4 Graph API under /graph (including /graph/token and
 * /graph/me), legacy v3 under /v3, coverage tiles under /tiles, thumbnails under /thumbs and the
 * OAuth consent page at /connect. Every request is logged; faults can be injected per test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { world as defaultWorld, type World } from './data';
import { type Fault, type FaultKind, FaultPlan, type RandomFaults, serveFault, SLOW_DEFAULT_MS } from './faults';
import { graph, type GraphContext } from './graph';
import { graphError, HttpError, json, type Reply, writeReply } from './http';
import { OAuth } from './oauth';
import { thumbnail, tile } from './tiles';
import { v3 } from './v3';

export type { Fault, FaultKind, RandomFaults } from './faults';

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** More matching items than this in a search box is HTTP 500 code 1 (default 5000). */
  heavyThreshold?: number;
  /** When set, /connect refuses any other redirect_uri with an error page. */
  registeredRedirectUri?: string;
  /** Lifetime of issued access tokens in seconds (default 5184000, 60 days). */
  tokenExpiresIn?: number;
  /** Every answer waits this long first, like a distant server (default 0). */
  latencyMs?: number;
  /** How long a picture URL stays valid, in ms (default 10 minutes). */
  thumbTtlMs?: number;
  /** The world served (default: the shared one of ./data; the bench adds density worlds, see ./worlds). */
  world?: World;
}

export interface LoggedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: string;
  time: number;
}

export interface SandboxStats {
  requests: number;
  faults: Record<FaultKind, number>;
}

export interface Sandbox {
  readonly origin: string;
  readonly graphUrl: string;
  readonly v3Url: string;
  readonly tilesUrl: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** Every request received since the start or the last resetLog(), oldest first. */
  readonly requests: LoggedRequest[];
  /** Empties `requests` and zeroes stats(). */
  resetLog(): void;
  inject(fault: Fault): void;
  randomFaults(options: RandomFaults): void;
  clearFaults(): void;
  stats(): SandboxStats;
  openConnections(): Promise<number>;
  /** Answers held back by 'slow' faults, still waiting. */
  pendingWaits(): number;
  /** Closes idle and active connections and clears every timer. */
  close(): Promise<void>;
}

const PREFIXES = ['/graph', '/v3', '/tiles', '/thumbs'];
const MAX_BODY_BYTES = 1 << 20;

/** [API prefix, path without it]; paths outside the prefixes (/connect) keep their full path. */
function splitPath(pathname: string): [string, string] {
  const prefix = PREFIXES.find((p) => pathname === p || pathname.startsWith(`${p}/`));
  return prefix === undefined ? ['', pathname] : [prefix, pathname.slice(prefix.length) || '/'];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const oauth = new OAuth({ registeredRedirectUri: options.registeredRedirectUri, tokenExpiresIn: options.tokenExpiresIn ?? 5_184_000 });
  const faults = new FaultPlan();
  const requests: LoggedRequest[] = [];
  /** Pending waits of 'slow' faults: timer -> cancel. */
  const waits = new Map<NodeJS.Timeout, () => void>();
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const world = options.world ?? defaultWorld;
  const ctx: GraphContext = { world, origin, oauth, heavyThreshold: options.heavyThreshold ?? 5000, thumbTtlMs: options.thumbTtlMs };

  /** True after `ms`; false as soon as the client goes away or the sandbox closes. */
  const wait = (ms: number, res: ServerResponse): Promise<boolean> => new Promise((resolve) => {
    const finish = (elapsed: boolean): void => {
      clearTimeout(timer);
      waits.delete(timer);
      res.off('close', cancel);
      resolve(elapsed);
    };
    const cancel = (): void => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    waits.set(timer, cancel);
    res.on('close', cancel);
  });

  function answer(method: string, url: URL, req: IncomingMessage, body: string): Reply {
    const [prefix, path] = splitPath(url.pathname);
    try {
      switch (prefix) {
        case '/graph': return graph(ctx, method, path, url, req.headers, body);
        case '/v3': return v3(ctx, method, path, url, req.headers);
        case '/tiles': return tile(world, oauth, path, url.searchParams);
        case '/thumbs': return thumbnail(world, path, url.searchParams);
      }
      if (path === '/connect' && method === 'GET') return oauth.connect(url.searchParams);
      if (path === '/connect/decision' && method === 'POST') return oauth.decide(body);
      return json(404, { message: `No route for ${method} ${url.pathname}` });
    } catch (error) {
      if (error instanceof HttpError) return error.reply;
      return graphError(500, 2, `Sandbox failure: ${String(error)}`, { is_transient: true }).reply;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    requests.push({ method, url: req.url ?? '/', headers: { ...req.headers }, body: body === '' ? undefined : body, time: Date.now() });
    const url = new URL(req.url ?? '/', origin);
    if (options.latencyMs && !(await wait(options.latencyMs, res))) return;
    const fault = faults.take(method, url.pathname, splitPath(url.pathname)[1]);
    if (fault) {
      const delay = fault.delayMs ?? (fault.kind === 'slow' ? SLOW_DEFAULT_MS : 0);
      if (delay > 0 && !(await wait(delay, res))) return;
      if (fault.kind !== 'slow') return serveFault(res, fault, faults.served[fault.kind]);
    }
    writeReply(res, answer(method, url, req, body));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  });

  return {
    origin,
    graphUrl: `${origin}/graph`,
    v3Url: `${origin}/v3`,
    tilesUrl: `${origin}/tiles`,
    authorizeUrl: `${origin}/connect`,
    tokenUrl: `${origin}/graph/token`,
    requests,
    resetLog() {
      requests.length = 0;
      faults.resetCounts();
    },
    inject: (fault) => faults.inject(fault),
    randomFaults: (randomOptions) => faults.addRandom(randomOptions),
    clearFaults: () => faults.clear(),
    stats: () => ({ requests: requests.length, faults: { ...faults.served } }),
    pendingWaits: () => waits.size,
    openConnections: () => new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    async close() {
      for (const cancel of [...waits.values()]) cancel();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
