/**
 * npm run bench (second part): how long a 1 MB input of each field takes to be refused.
 *
 * Every field a flow can fill is given 1,000,000 characters (or a million-item list) through the
 * entry point a message reaches: the client's searches, the detections input, the area test of
 * `msg.payload`. Each case runs 7 times; the median is shown. Nothing is sent: the client points
 * at a closed port, so a case that got as far as a request would fail differently (and be shown).
 * Beside them, the parsers of 0.1.0 (quadratic: a number pattern that backtracks, an area test
 * with two adjacent `\s*`) on inputs of 10k to 40k characters, to show what the limits and the
 * linear parsers replaced; the 1 MB case of those ran for tens of minutes.
 */
import { isMapillaryError, MapillaryClient } from '../src';
import { performance } from 'node:perf_hooks';
import { looksLikeArea } from '../nodes/shared/inputs';

const MB = 1_000_000;
const RUNS = 7;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function time(run: () => unknown): { ms: number; outcome: string } {
  const times: number[] = [];
  let outcome = '';
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    try {
      const result = run();
      outcome = typeof result === 'boolean' ? `looks like an area: ${result}` : 'accepted';
    } catch (error) {
      outcome = isMapillaryError(error) ? error.code : `UNCODED ${(error as Error).name}`;
    }
    times.push(performance.now() - started);
  }
  return { ms: median(times), outcome };
}

const client = new MapillaryClient({ clientToken: 'MLY|1|bench', baseUrls: { graph: 'http://127.0.0.1:9' }, requestsPerMinute: 0 });
// Inputs are built once, outside the timed calls.
const digits = '7'.repeat(MB);
const list = 'a,'.repeat(MB / 2);
const numbers = new Array(MB).fill(1);
const positions = { type: 'MultiPoint', coordinates: Array.from({ length: MB }, () => [1, 1]) };
const idArray = new Array(MB).fill('1');
const spaces = ' '.repeat(MB);
const repeated = '1,1,1,1,'.repeat(MB / 8);
const bracketed = `[${digits}`;
const idList = '1,'.repeat(MB / 2);
const letters = 'u'.repeat(MB);

const cases: [string, () => unknown][] = [
  ['area text: 1 MB of digits', () => client.searchImages({ bbox: digits })],
  ['area text: "[" + 1 MB', () => client.searchImages({ bbox: bracketed })],
  ['area text: 1 MB of "1,1,1,1,"', () => client.searchImages({ bbox: repeated })],
  ['area: array of 1M numbers', () => client.searchImages({ bbox: numbers })],
  ['area: GeoJSON object of 1M positions', () => client.searchImages({ bbox: positions })],
  ['msg.payload area test: 1 MB of spaces', () => looksLikeArea(spaces)],
  ['date: 1 MB', () => client.searchImages({ bbox: '0,0,0.01,0.01', startCapturedAt: digits })],
  ['creator username: 1 MB', () => client.searchImages({ creatorUsername: letters })],
  ['make: 1 MB', () => client.searchImages({ bbox: '0,0,0.01,0.01', make: letters })],
  ['model: 1 MB', () => client.searchImages({ bbox: '0,0,0.01,0.01', model: letters })],
  ['organization id: 1 MB', () => client.searchImages({ organizationId: digits })],
  ['sequence ids: 1 MB list', () => client.searchImages({ sequenceIds: list })],
  ['image ids: 1 MB list', () => client.searchImages({ imageIds: idList })],
  ['image ids: 1M-item array', () => client.searchImages({ imageIds: idArray })],
  ['object values: 1 MB', () => client.searchMapFeatures({ bbox: '0,0,0.01,0.01', objectValues: list })],
  ['fields: 1 MB', () => client.searchImages({ bbox: '0,0,0.01,0.01', fields: list })],
  ['detections ids: 1 MB', () => client.imageDetections(idArray)],
  ['v3 usernames: 1 MB', () => client.v3.images({ usernames: list })],
];

// The 0.1.0 parsers, as they were, for the side-by-side.
const OLD_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const OLD_AREA_TEXT = /^\s*\[?\s*-?[\d.]+\s*(,\s*-?[\d.]+\s*){3}\]?\s*$/;

function row(name: string, ms: number, outcome: string): string {
  return `| ${name} | ${ms < 1 ? ms.toFixed(2) : ms.toFixed(1)} ms | ${outcome} |`;
}

const lines: string[] = ['| 1 MB input | median time to refuse | outcome |', '|---|---|---|'];
let worst = 0;
let unrefused = 0;
for (const [name, run] of cases) {
  const { ms, outcome } = time(run);
  worst = Math.max(worst, ms);
  if (outcome !== 'MAPILLARY_INVALID_INPUT' && outcome !== 'looks like an area: false') unrefused += 1;
  lines.push(row(name, ms, outcome));
}
lines.push('', '| 0.1.0 parser (baseline) | 10,000 chars | 20,000 chars | 40,000 chars | growth per doubling |', '|---|---|---|---|---|');
for (const [name, pattern, make] of [
  ['number pattern, digits + "x"', OLD_NUMBER, (n: number) => `${'7'.repeat(n)}x`],
  ['area test, spaces', OLD_AREA_TEXT, (n: number) => ' '.repeat(n)],
] as const) {
  const ms = [10_000, 20_000, 40_000].map((n) => time(() => pattern.test(make(n))).ms);
  lines.push(`| ${name} | ${ms.map((m) => `${m.toFixed(0)} ms`).join(' | ')} | ×${(ms[2]! / ms[1]!).toFixed(1)} |`);
}
lines.push('', `Slowest 1 MB refusal: ${worst.toFixed(1)} ms (target: well under 50 ms).`);
console.log(lines.join('\n'));
void client.close();
if (unrefused > 0) {
  console.error('A case was not refused with MAPILLARY_INVALID_INPUT.');
  process.exitCode = 1;
}
