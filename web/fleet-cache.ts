// The fleet page's rows, collected in the background and served from memory: a collection for 1,000 pairs
// takes seconds (fleet/status.ts asks Temporal visibility and each failed pair's result), which no page load
// should wait for. The first collection starts with the console; later ones follow each other with a pause
// of at least `everyMs` (and at least twice the last collection's time, so a big fleet does not keep the
// machine busy), and only while someone looks: a console nobody loaded for `idleMs` stops asking Temporal
// and starts again at the next load (which is served the rows it kept, with their age).
import type { ConsoleRow } from './fleet-data.js';

export interface CollectedRows {
  rows: ConsoleRow[];
  /** When the collection these rows come from started. */
  collectedAt: Date;
}

export class FleetRowsCache {
  private latest: CollectedRows | undefined;
  private pending: Promise<CollectedRows> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastAsked = Date.now();
  /** Bumped by each action: rows of a collection started before the newest bump are not served. */
  private generation = 0;
  private latestGeneration = 0;
  private stopped = false;

  constructor(
    private readonly collect: () => Promise<ConsoleRow[]>,
    private readonly everyMs: number,
    private readonly idleMs = 5 * 60_000,
  ) {}

  /** Starts the first collection (the console calls this once it listens). */
  start(): void {
    void this.refresh().catch(() => undefined);
  }

  /** The newest rows; waits only when none were ever collected (or after `invalidate`). */
  async rows(): Promise<CollectedRows> {
    this.lastAsked = Date.now();
    if (!this.timer && !this.pending && !this.stopped) this.start();
    const fresh = () => this.latest !== undefined && this.latestGeneration === this.generation;
    if (fresh()) return this.latest!;
    if (this.pending) await this.pending.catch(() => undefined);
    if (fresh()) return this.latest!;
    try {
      return await this.refresh();
    } catch (error) {
      if (this.latest) return this.latest;
      throw error;
    }
  }

  /** After an action: the next load waits for a collection started after it. */
  invalidate(): void {
    this.generation += 1;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private refresh(): Promise<CollectedRows> {
    if (this.pending) return this.pending;
    clearTimeout(this.timer);
    this.timer = undefined;
    const started = Date.now();
    const generation = this.generation;
    const collection = this.collect().then(
      (rows) => {
        this.pending = undefined;
        this.latest = { rows, collectedAt: new Date(started) };
        this.latestGeneration = generation;
        return this.latest;
      },
      (error: unknown) => {
        this.pending = undefined;
        // Kept rows go on being served; a page with none gets the error.
        console.error(`tidemark web: WARNING: collecting the fleet's status failed: ${(error as Error).message}`);
        throw error;
      },
    );
    this.pending = collection;
    void collection
      .catch(() => undefined)
      .finally(() => {
        // One loop only: a collection started meanwhile (after an action) schedules the next itself.
        if (this.stopped || this.pending || this.timer || Date.now() - this.lastAsked > this.idleMs) return;
        const pause = Math.max(this.everyMs, 2 * (Date.now() - started));
        this.timer = setTimeout(() => void this.refresh().catch(() => undefined), pause);
        this.timer.unref();
      });
    return collection;
  }
}
