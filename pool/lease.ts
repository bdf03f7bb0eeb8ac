// One writer per dataset. The lease is a user property on the host's dataset naming the run and attempt
// that may write it. A transfer takes it before rsync starts and keeps checking it; the snapshot step
// snapshots only a copy that its own run's transfer finished. Two workers started with one server name,
// or an attempt left behind by a network partition, can then never both write and snapshot.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { zfs } from './zfs.js';

const leaseProperty = 'tidemark:lease';

export interface Lease {
  workflowId: string;
  runId: string;
  /** Activity attempt of the transfer; 0 before any transfer (set when the dataset is created). */
  attempt: number;
  /** "writing": rsync may be running; "transferred": the copy is finished and waits for its snapshot;
   * "snapshotted": done, the next run may take it. */
  state: 'ready' | 'writing' | 'transferred' | 'snapshotted';
  /** When the state was set (ISO 8601); absent in leases of older versions. */
  since?: string;
  /** Worker identity and the kernel it runs on (a holder on another boot cannot be writing this pool). */
  worker: string;
  boot: string;
}

let bootId: string | undefined;
/** This kernel's boot id: the same for every process and container on the machine, new after a reboot. */
export async function currentBootId(): Promise<string> {
  bootId ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  return bootId;
}

/** The lease set on `dataset` itself (never an inherited one); undefined when there is none. */
export async function readLease(dataset: string): Promise<Lease | undefined> {
  const [value = '-', source = ''] = (await zfs(['get', '-H', '-o', 'value,source', leaseProperty, dataset]))
    .trim()
    .split('\t');
  if (source !== 'local' || value === '-') return undefined;
  try {
    return JSON.parse(value) as Lease;
  } catch {
    return undefined;
  }
}

export async function writeLease(dataset: string, lease: Lease): Promise<void> {
  await zfs(['set', `${leaseProperty}=${JSON.stringify({ ...lease, since: new Date().toISOString() })}`, dataset]);
}

/** How long a copy another run finished is kept for that run's snapshot before a new run may write over
 * it (the snapshot normally follows within seconds; a run that died in between must not block forever). */
export const transferredHoldMs = 10 * 60_000;

/** A finished copy of another run that still waits for its snapshot. */
export function awaitsSnapshot(lease: Lease | undefined, runId: string, now = Date.now()): boolean {
  if (!lease || lease.runId === runId || lease.state !== 'transferred') return false;
  const since = Date.parse(lease.since ?? '');
  return Number.isFinite(since) && now - since < transferredHoldMs;
}

/** `zfs create -o` pair giving a new dataset a lease of the run creating it. */
export function leaseCreateOption(lease: Lease): string {
  return `${leaseProperty}=${JSON.stringify(lease)}`;
}

export function sameHolder(a: Lease | undefined, b: Pick<Lease, 'runId' | 'attempt'>): boolean {
  return a !== undefined && a.runId === b.runId && a.attempt === b.attempt;
}

/** `current` is an earlier attempt of the run holding `mine`: it was given up for dead, not a rival. */
export function takenByEarlierAttempt(current: Lease, mine: Lease): boolean {
  return current.runId === mine.runId && current.attempt < mine.attempt;
}

export function describeLease(lease: Lease): string {
  return `run ${lease.runId} attempt ${lease.attempt} (${lease.state}, worker ${lease.worker})`;
}

/** What an attempt does about the dataset before its rsync starts. */
export type LeaseStep =
  | { kind: 'take' }
  /** An earlier attempt of this run still writes: Temporal gave up on it, so it is stopped first. */
  | { kind: 'fence'; groups: number[] }
  /** Another run writes, or its finished copy waits for its snapshot: retry later. */
  | { kind: 'wait'; reason: string }
  /** A later attempt of this run holds the dataset: this one was given up for dead and must not touch it. */
  | { kind: 'superseded'; reason: string };

/** Decides from the dataset's lease `held`, this attempt's `mine` and the rsync process groups writing the
 * copy now. Never kills what it cannot attribute to an earlier attempt of the same run. */
export function leaseStep(held: Lease | undefined, mine: Lease, writers: number[], now = Date.now()): LeaseStep {
  const sameRun = held?.runId === mine.runId;
  if (held && sameRun && held.attempt > mine.attempt) {
    return {
      kind: 'superseded',
      reason: `attempt ${held.attempt} of this run (${held.state}, worker ${held.worker}) holds the dataset; this attempt (${mine.attempt}) was given up for dead and leaves it alone`,
    };
  }
  if (awaitsSnapshot(held, mine.runId, now)) {
    return {
      kind: 'wait',
      reason: `holds the finished copy of ${describeLease(held!)}, not yet snapshotted; waiting for it`,
    };
  }
  if (writers.length === 0) return { kind: 'take' };
  if (sameRun) return { kind: 'fence', groups: writers };
  if (held?.state === 'writing' && held.boot === mine.boot) {
    return {
      kind: 'wait',
      reason: `is being written by ${describeLease(held)} (rsync process group ${writers.join(', ')}); waiting for it`,
    };
  }
  return {
    kind: 'wait',
    reason: `is written by an rsync not started by this run (pid ${writers.join(', ')}); waiting for it`,
  };
}

/** Process groups of the rsync processes on this machine writing into `mountpoint` (its last argument).
 * A pulling rsync is two local processes (generator and receiver) in the group its transfer leads. */
export async function rsyncWritersInto(mountpoint: string): Promise<number[]> {
  const destination = mountpoint.endsWith('/') ? mountpoint : `${mountpoint}/`;
  const groups = new Set<number>();
  // Synchronous reads: /proc answers from memory, and one awaited read per process made the scan
  // ~0.25 ms a process (20-30 ms on a quiet machine) where this takes ~0.03 ms.
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = readProc(`/proc/${entry}/cmdline`).split('\0').filter(Boolean);
    if (!argv[0]?.endsWith('rsync') || argv.at(-1) !== destination || argv.includes('--server')) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (Number.isInteger(group) && group > 0) groups.add(group);
  }
  return [...groups];
}

/** A /proc file's text; empty when the process is gone. */
function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Kills the process groups (each transfer's rsync leads one, with its ssh) and waits until no rsync of
 * theirs writes into `mountpoint`; false when one survived 10 s. A zombie (a stopped worker cannot reap
 * it) has no command line, so it no longer counts. */
export async function fence(groups: number[], mountpoint: string): Promise<boolean> {
  const remaining = async () => (await rsyncWritersInto(mountpoint)).filter((group) => groups.includes(group));
  for (const group of groups) signal(group, 'SIGTERM');
  for (let waited = 0; waited < 10_000; waited += 100) {
    if ((await remaining()).length === 0) return true;
    if (waited === 3_000) for (const group of groups) signal(group, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (await remaining()).length === 0;
}

function signal(group: number, name: NodeJS.Signals): void {
  try {
    process.kill(-group, name);
  } catch {
    // Already gone.
  }
}
