/**
 * A lattice server for the benches: v4 image searches answered with points on a regular grid
 * (spacing 1e-4 degrees, so many lie exactly on cell edges), capped at `limit` without a cursor
 * like the real API, never refused. Every request path it answered is kept in `served`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SPACING = 1e-4;
export const ORIGIN: [number, number] = [10, 50];

/** Lattice indices i with min <= ORIGIN + i * SPACING <= max (closed box, as the API filters). */
export function range(min: number, max: number, origin: number): [number, number] {
  let lo = Math.ceil((min - origin) / SPACING - 1e-9);
  let hi = Math.floor((max - origin) / SPACING + 1e-9);
  while (origin + lo * SPACING < min) lo++;
  while (origin + hi * SPACING > max) hi--;
  return [lo, hi];
}

export const coord = (i: number, origin: number) => origin + i * SPACING;

/** Every request path the lattice server answered, in order (to replay them without the client). */
export const served: string[] = [];

export function startLattice(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    served.push(req.url!);
    const url = new URL(req.url!, 'http://x');
    const [w, s, e, n] = url.searchParams.get('bbox')!.split(',').map(Number) as [number, number, number, number];
    const limit = Number(url.searchParams.get('limit') ?? 2000);
    const [x0, x1] = range(w, e, ORIGIN[0]);
    const [y0, y1] = range(s, n, ORIGIN[1]);
    const data: unknown[] = [];
    for (let y = y0; y <= y1 && data.length < limit; y++) {
      for (let x = x0; x <= x1 && data.length < limit; x++) {
        data.push({ id: String(y * 1_000_000 + x), geometry: { type: 'Point', coordinates: [coord(x, ORIGIN[0]), coord(y, ORIGIN[1])] }, captured_at: 1_600_000_000_000 + x });
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

