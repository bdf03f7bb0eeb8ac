// Teardown for the benchmarks: steps run in reverse order of registration, once, also on Ctrl-C.

export interface CleanupStack {
  push(step: () => Promise<unknown>): void;
  /** Runs every registered step, newest first; a failing step is reported and the rest still run. */
  run(): Promise<void>;
}

export function cleanupStack(): CleanupStack {
  const steps: (() => Promise<unknown>)[] = [];
  const run = async () => {
    for (const step of steps.reverse())
      await step().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
    steps.length = 0;
  };
  process.once('SIGINT', () => void run().finally(() => process.exit(130)));
  return { push: (step) => void steps.push(step), run };
}

/** zfs-fuse keeps just-used datasets busy for a moment: retry the destroy for up to 10 s. */
export async function destroyWhenIdle(destroy: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await destroy();
      return;
    } catch (error) {
      if (attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
