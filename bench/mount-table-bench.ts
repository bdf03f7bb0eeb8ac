// A host's mount table as a hostile host may make it: 200,000 lines (about what the probe's 4 MiB output
// cap admits), parsed and selected on the worker's event loop the way probeHost does, while eight other
// transfers heartbeat once a second. Issue 20 measured 4.4 s for 8,000 lines on the quadratic selection;
// the bar is under a second per table, so no other transfer's heartbeat is held up past that.
// Run: npm run bench:mounts (writes results/mount-table-<time>.json).
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { selectHostMounts } from '../activities/mount-selection.js';
import { parseProbeOutput } from '../domain/host-steps.js';
import { mountTableLineCap } from '../domain/mounts.js';
import { writeResultJson } from './machine.js';

const lines = Number(process.argv[2] ?? 200_000);
const repeats = 5;
const marker = 'benchmarkmarker01';

/** Mount-table bodies (four fields: what a host that wants many lines sends), each `lines` long and within the probe's 4 MiB output cap (activities/ssh-run.ts),
 * shaped to hit a different part of the selection. */
const shapes: Record<string, (i: number) => string> = {
  // Every line a local filesystem to copy: the selected list is as long as the table.
  'flat local mounts': (i) => `a /m${i.toString(36)} ext4 r`,
  // Every line mounted over the same directory: all but the last hidden.
  'one directory mounted over': (i) => `a${i.toString(36)} /srv ext4 r`,
  // Pseudo filesystems with local ones beneath: each local mount is checked against skipped parents.
  'local under skipped tmpfs': (i) =>
    i % 2 === 0 ? `t /t${i.toString(36)} tmpfs r` : `a /t${(i - 1).toString(36)}/d ext4 r`,
  // Bind mounts of the root's filesystem in nested folders: each compared with its parent mounts.
  'nested bind mounts': (i) => `a /${'d/'.repeat(i % 4)}${i.toString(36)} ext4 r`,
  // Names with octal escapes (a space) to decode on every line.
  'escaped names': (i) => `a /\\040${i.toString(36)} xfs r`,
};

/** The probe's output cap (activities/ssh-run.ts): a longer table never reaches the parser. */
const outputCap = 4 * 1024 * 1024;

interface ShapeResult {
  shape: string;
  lines: number;
  bytes: number;
  selected: number;
  skipped: number;
  medianMs: number;
  maxMs: number;
  /** Longest stall of the event loop while this shape ran (what a heartbeat timer waited at most). */
  maxEventLoopDelayMs: number;
  /** Longest gap between two heartbeats of the simulated transfers, minus their 1 s period. */
  maxHeartbeatLateMs: number;
}

function probeOutput(body: (i: number) => string): string {
  const table = Array.from({ length: lines }, (_, i) => body(i)).join('\n');
  const text = [
    `${marker} veto`,
    `${marker} mounts`,
    '/dev/sda1 / ext4 rw 0 0',
    table,
    `${marker} excludes`,
    `${marker} end`,
    '',
  ].join('\n');
  if (Buffer.byteLength(text) > outputCap)
    throw new Error(`table of ${Buffer.byteLength(text)} bytes is over the probe's cap`);
  return text;
}

/** What probeHost does with the probe's output before it answers (no ssh). */
async function selectFromProbe(stdout: string) {
  const output = parseProbeOutput(stdout, marker);
  if (!output) throw new Error('probe output not recognised');
  return selectHostMounts(output.mounts, { root: '/', includeNetworkMounts: false, extraTypes: [] }, 20);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(shape: string, body: (i: number) => string): Promise<ShapeResult> {
  const stdout = probeOutput(body);
  // Eight other transfers heartbeat once a second, as transferFiles does.
  let lateMs = 0;
  const beats = Array.from({ length: 8 }, () => {
    let last = performance.now();
    return setInterval(() => {
      const now = performance.now();
      lateMs = Math.max(lateMs, now - last - 1_000);
      last = now;
    }, 1_000);
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const times: number[] = [];
  let selection: Awaited<ReturnType<typeof selectFromProbe>> | undefined;
  try {
    for (let run = 0; run < repeats; run++) {
      await sleep(1_100); // let every heartbeat fire between two tables
      const started = performance.now();
      selection = await selectFromProbe(stdout);
      times.push(performance.now() - started);
    }
    await sleep(1_100);
  } finally {
    delay.disable();
    beats.forEach(clearInterval);
  }
  times.sort((a, b) => a - b);
  return {
    shape,
    lines: lines + 1,
    bytes: Buffer.byteLength(stdout),
    selected: selection!.paths.length,
    skipped: selection!.skippedCount,
    medianMs: Math.round(times[Math.floor(times.length / 2)]!),
    maxMs: Math.round(times.at(-1)!),
    maxEventLoopDelayMs: Math.round(delay.max / 1e6),
    maxHeartbeatLateMs: Math.round(lateMs),
  };
}

const results: ShapeResult[] = [];
for (const [shape, body] of Object.entries(shapes)) {
  const result = await measure(shape, body);
  results.push(result);
  console.log(
    `${shape.padEnd(28)} ${result.lines} lines, ${(result.bytes / 2 ** 20).toFixed(1)} MiB: median ${result.medianMs} ms, max ${result.maxMs} ms; event loop stalled ≤ ${result.maxEventLoopDelayMs} ms, heartbeats late ≤ ${result.maxHeartbeatLateMs} ms (${result.selected} selected, ${result.skipped} skipped)`,
  );
}
const worst = Math.max(...results.map((result) => result.maxMs));
const worstStall = Math.max(...results.map((result) => result.maxEventLoopDelayMs));
console.log(
  `worst table: ${worst} ms, worst event-loop stall ${worstStall} ms (bar: under 1,000 ms; line cap ${mountTableLineCap}; load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores)`,
);
const at = new Date().toISOString();
writeResultJson('results', 'mount-table', at, {
  at,
  node: process.version,
  cpus: availableParallelism(),
  loadAverage: loadavg(),
  lines,
  repeats,
  worstMs: worst,
  worstStallMs: worstStall,
  results,
});
