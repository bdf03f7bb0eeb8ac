// The loader hook of bench/module-census.ts: appends each ES module's URL to $TIDEMARK_BENCH_CENSUS as it loads.
import { appendFileSync } from 'node:fs';

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  const file = process.env.TIDEMARK_BENCH_CENSUS;
  if (file && !url.startsWith('node:')) appendFileSync(file, `${url}\n`);
  return next(url, context);
}
