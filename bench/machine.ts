// What every bench needs around its own measurement: the facts about the machine that go into its result,
// and how its main function is run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The machine a result was measured on. It is shared: a high load average means other work ran alongside. */
export function machineFacts(loadBefore: number[]) {
  return {
    nproc: availableParallelism(),
    kernel: release(),
    cpuModel: (cpus()[0]?.model ?? 'unknown').trim(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    loadBefore,
    loadAfter: loadavg(),
  };
}

/** Runs a bench's `main`; on a failure prints it and exits 1 at once (its cleanups have run by then): a
 * handle a failed run left open once kept the process, and the bench-smoke test with it, waiting 15 min. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  }
}

/** `<out>/<name>-<UTC stamp>.<extension>` for a result started at `startedAt` (an ISO time): every bench
 * names its files the same way, so results sort by time. */
export function resultPath(out: string, name: string, startedAt: string, extension = 'json'): string {
  const stamp = startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(out, `${name}-${stamp}.${extension}`);
}

/** Writes `result` as indented JSON to `resultPath(...)`, making `out` first, and says where. */
export function writeResultJson(out: string, name: string, startedAt: string, result: unknown): string {
  mkdirSync(out, { recursive: true });
  const path = resultPath(out, name, startedAt);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  console.log(`json: ${path}`);
  return path;
}

/** A progress logger that stamps each line with the seconds since it was made: "[  12.3 s] line". */
export function elapsedLog(): (line: string) => void {
  const started = performance.now();
  return (line) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}
