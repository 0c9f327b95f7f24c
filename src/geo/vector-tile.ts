/**
 * Mapbox Vector Tile decoding (detection geometries, coverage tiles): the libraries, loaded once
 * on first use. Both are ESM-only; TypeScript keeps this import() as is in the CommonJS output.
 */
const load = () => Promise.all([import('@mapbox/vector-tile'), import('pbf')]);
let libraries: ReturnType<typeof load> | undefined;

export function vectorTileLibraries(): ReturnType<typeof load> {
  return (libraries ??= load());
}
