// What every bench needs around its own measurement: the facts about the machine that go into its result,
// and how its main function is run.
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

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
