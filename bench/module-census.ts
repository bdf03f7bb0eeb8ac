// Preloaded into a CLI process by `bench:cli`'s census pass (`node --import …/module-census.js`): writes every
// module file the process loaded, ES modules through a loader hook and CommonJS ones from require's cache, one
// URL or path a line, to $TIDEMARK_BENCH_CENSUS. Never loaded into a timed run: the hook costs time itself.
import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';

const file = process.env.TIDEMARK_BENCH_CENSUS;
if (file) {
  register('./module-census-hooks.js', import.meta.url);
  process.on('exit', () => {
    const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
    appendFileSync(file, Object.keys(cache).join('\n') + '\n');
  });
}
