// The benchmark's result document, its targets and the printed tables.
import type { HostRun } from './baselines.js';
import type { TreeStats } from './fleet.js';
import type { SmallFleetResult } from './small-fleet.js';

export const workloads = ['full', 'unchanged', 'changed'] as const;
export type Workload = (typeof workloads)[number];
export const methods = ['sown', 'planb', 'bare-nometa', 'bare', 'tidemark-seq', 'tidemark'] as const;
export type Method = (typeof methods)[number];

export const methodLabels: Record<Method, string> = {
  sown: 'SOWN flags',
  planb: 'PlanB flags',
  'bare-nometa': 'Tidemark flags - A/X',
  bare: 'bare (Tidemark flags)',
  'tidemark-seq': 'Tidemark, 1 at a time',
  tidemark: 'Tidemark fleet',
};

export const workloadLabels: Record<Workload, string> = {
  full: 'first full',
  unchanged: 'unchanged re-run',
  changed: '1% files changed',
};

export interface ProcessUsage {
  /** CPU seconds of the process itself during the phase. */
  cpuS: number;
  /** CPU seconds of its reaped children (rsync, ssh, zfs) during the phase. */
  childCpuS?: number;
  /** Peak resident set during the phase (VmHWM after a reset), MiB. */
  peakMiB?: number;
}

export interface MethodRun {
  method: Method;
  workload: Workload;
  /** First host started → last host finished. */
  wallMs: number;
  hosts: HostRun[];
  medianHostMs: number;
  bytesReceived: number;
  bytesSent?: number;
  /** Busy CPU seconds of the whole machine (all processes) during the phase. */
  machineCpuS: number;
  /** Lower bound of the CPU seconds processes outside the bench (other users' jobs) used during the phase: noise indicator. */
  foreignCpuS?: number;
  /** CPU seconds of the zfs-fuse daemon during the phase (it does every pool write). */
  zfsFuseCpuS?: number;
  worker?: ProcessUsage;
  temporal?: ProcessUsage;
  /** Space used by all of the run's datasets after this phase, MiB. */
  poolUsedMiB?: number;
  /** Most rsync processes the worker ran at once (sampled). */
  maxConcurrentTransfers?: number;
}

export interface OverheadFigures {
  /** Median over hosts of (Tidemark one-at-a-time host time − bare host time), ms. */
  medianMs: number;
  /** Median over hosts of that difference relative to the bare host time, %. */
  medianPercent: number;
  medianBareMs: number;
  medianTidemarkMs: number;
  perHostMs: number[];
  /** Median time of each workflow step (scheduled → completed) in the one-at-a-time runs, ms. */
  medianStepsMs: Record<string, number>;
  /** Median time of each bare step (zfsCreate, rsync, zfsSnapshot), ms. */
  medianBareStepsMs: Record<string, number>;
}

export interface TargetResult {
  id: string;
  description: string;
  measured: string;
  limit: string;
  /** null when the figure was not measured in this run. */
  pass: boolean | null;
  note?: string;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: {
    nproc: number;
    kernel: string;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    rsync: string;
    loadBefore: number[];
    loadAfter: number[];
  };
  config: {
    smoke: boolean;
    hosts: number;
    files: number;
    mebibytes: number;
    largeFiles: number;
    concurrency: number;
    changePercent: number;
    workloads: Workload[];
    idleSeconds: number;
    memoryPhase: boolean;
    /** Small hosts in the fleet comparison (0: not run). */
    smallFleet: number;
    ownTemporal: boolean;
    ownPool: boolean;
    temporalAddress: string;
    pool: string;
  };
  fleet: { perHost: TreeStats; totalFiles: number; totalMiB: number; filesChangedPerHost?: number };
  runs: MethodRun[];
  overhead: Partial<Record<Workload, OverheadFigures>>;
  idle?: {
    seconds: number;
    workerCpuS: number;
    temporalCpuS?: number;
    percentOfOneCore: number;
    percentOfMachine: number;
  };
  memoryPhase?: { concurrency: number; hosts: number; wallMs: number; peakMiB: number; maxConcurrentTransfers: number };
  smallFleet?: SmallFleetResult;
  targets: TargetResult[];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The nearest-rank percentile (p in 0–100): the smallest value at or above p % of the values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function findRun(result: Pick<BenchResult, 'runs'>, method: Method, workload: Workload): MethodRun | undefined {
  return result.runs.find((run) => run.method === method && run.workload === workload);
}

/** Per-host overhead of Tidemark over its own bare command, hosts paired by index. */
export function overheadFor(bare: MethodRun, sequential: MethodRun): OverheadFigures {
  const pairs = bare.hosts.map((host, index) => ({ bare: host.ms, tidemark: sequential.hosts[index]?.ms ?? NaN }));
  return {
    medianMs: median(pairs.map((pair) => pair.tidemark - pair.bare)),
    medianPercent: median(pairs.map((pair) => ((pair.tidemark - pair.bare) / pair.bare) * 100)),
    medianBareMs: median(pairs.map((pair) => pair.bare)),
    medianTidemarkMs: median(pairs.map((pair) => pair.tidemark)),
    perHostMs: pairs.map((pair) => Math.round(pair.tidemark - pair.bare)),
    medianStepsMs: medianSteps(sequential.hosts),
    medianBareStepsMs: medianSteps(bare.hosts),
  };
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mib = (bytes: number | undefined) =>
  bytes === undefined ? '-' : (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 1);

/** Evaluates the README's targets against the measured figures. */
export function evaluateTargets(result: BenchResult): TargetResult[] {
  const targets: TargetResult[] = [];
  const unchanged = result.overhead.unchanged;
  targets.push({
    id: 'overhead-unchanged',
    description: 'per-host overhead, unchanged re-run (median)',
    measured: unchanged ? `${unchanged.medianMs.toFixed(0)} ms` : 'not measured',
    limit: '< 100 ms',
    pass: unchanged ? unchanged.medianMs < 100 : null,
  });
  targets.push({
    id: 'overhead-unchanged-250',
    description: 'per-host overhead, unchanged re-run (median)',
    measured: unchanged ? `${unchanged.medianMs.toFixed(0)} ms` : 'not measured',
    limit: '<= 250 ms',
    pass: unchanged ? unchanged.medianMs <= 250 : null,
  });
  const full = result.overhead.full;
  targets.push({
    id: 'overhead-full',
    description: 'per-host overhead, first full backup (median, % of bare)',
    measured: full
      ? `${full.medianPercent.toFixed(1)} % (${full.medianMs.toFixed(0)} ms of ${full.medianBareMs.toFixed(0)} ms)`
      : 'not measured',
    limit: '< 5 %',
    pass: full ? full.medianPercent < 5 : null,
  });
  for (const workload of result.config.workloads) {
    const bare = findRun(result, 'bare', workload);
    const fleet = findRun(result, 'tidemark', workload);
    if (!bare || !fleet) continue;
    const speedup = bare.wallMs / fleet.wallMs;
    targets.push({
      id: `fleet-speedup-${workload}`,
      description: `fleet wall, ${workloadLabels[workload]}, concurrency ${result.config.concurrency} vs bare sequential`,
      measured: `${seconds(fleet.wallMs)} s vs ${seconds(bare.wallMs)} s (${speedup.toFixed(2)}x)`,
      limit: '>= 1.5x faster',
      pass: result.config.concurrency >= 2 ? speedup >= 1.5 : null,
      note: result.config.concurrency >= 2 ? undefined : 'needs --concurrency >= 2',
    });
    targets.push({
      id: `fleet-not-slower-${workload}`,
      description: `fleet wall, ${workloadLabels[workload]}, never slower than bare sequential`,
      measured: `${speedup.toFixed(2)}x`,
      limit: '>= 1.0x',
      pass: speedup >= 1,
    });
  }
  for (const phase of result.smallFleet?.phases ?? []) {
    const small = result.smallFleet!;
    for (const [id, label, ms] of [
      ['engine', 'engine-started', phase.engineMs],
      ['cli', `${small.hosts} x start-backup --wait`, phase.cliMs],
    ] as const) {
      const ratio = ms / phase.bareLoopMs;
      targets.push({
        id: `small-fleet-${id}-${phase.workload}`,
        description: `${small.hosts} small hosts, ${label} (c=${small.concurrency}) vs sequential bare loop, ${workloadLabels[phase.workload]}`,
        measured: `${seconds(ms)} s vs ${seconds(phase.bareLoopMs)} s (${ratio.toFixed(2)}x the time)`,
        limit: '<= 1.00x',
        pass: ratio <= 1,
      });
    }
    // Watching must not slow what is watched: the backups' own durations, CLI-watched vs engine-started.
    const slowdown = phase.cliRunMedianMs / phase.engineRunMedianMs;
    targets.push({
      id: `small-fleet-watched-${phase.workload}`,
      description: `${small.hosts} small hosts, backups watched by ${small.hosts} start-backup --wait vs not watched, ${workloadLabels[phase.workload]} (median run)`,
      measured: `${seconds(phase.cliRunMedianMs)} s vs ${seconds(phase.engineRunMedianMs)} s (${slowdown.toFixed(2)}x)`,
      limit: '<= 1.10x',
      pass: slowdown <= 1.1,
    });
  }
  targets.push({
    id: 'worker-rss',
    description: `worker peak RSS while ${result.memoryPhase?.maxConcurrentTransfers ?? 4} backups transfer at once`,
    measured: result.memoryPhase ? `${result.memoryPhase.peakMiB.toFixed(0)} MiB` : 'not measured',
    limit: '< 250 MiB',
    pass: result.memoryPhase
      ? result.memoryPhase.peakMiB < 250 && result.memoryPhase.maxConcurrentTransfers >= 4
      : null,
    note:
      result.memoryPhase && result.memoryPhase.maxConcurrentTransfers < 4
        ? `only ${result.memoryPhase.maxConcurrentTransfers} transfers seen at once`
        : undefined,
  });
  targets.push({
    id: 'idle-cpu',
    description: `worker + Temporal idle CPU over ${result.idle?.seconds ?? '?'} s`,
    measured: result.idle ? `${result.idle.percentOfOneCore.toFixed(2)} % of one core` : 'not measured',
    limit: '< 2 %',
    pass: result.idle && result.idle.temporalCpuS !== undefined ? result.idle.percentOfOneCore < 2 : null,
    note: result.idle && result.idle.temporalCpuS === undefined ? 'Temporal pid unknown' : undefined,
  });
  for (const workload of result.config.workloads) {
    const bare = findRun(result, 'bare', workload);
    const references = (['sown', 'planb'] as const)
      .map((method) => findRun(result, method, workload))
      .filter((run) => run !== undefined);
    if (!bare || references.length === 0) continue;
    const fastest = references.reduce((best, run) => (run.wallMs < best.wallMs ? run : best));
    const ratio = bare.wallMs / fastest.wallMs;
    targets.push({
      id: `flags-${workload}`,
      description: `Tidemark flags vs fastest reference, ${workloadLabels[workload]}`,
      measured: `${seconds(bare.wallMs)} s vs ${methodLabels[fastest.method]} ${seconds(fastest.wallMs)} s (${ratio.toFixed(2)}x)`,
      limit: '<= 1.00x',
      pass: ratio <= 1,
      note: ratio > 1 && ratio <= 1.05 ? 'within 5 %, about the run-to-run noise' : undefined,
    });
    // The same comparison without ACLs and xattrs, which the reference systems do not copy.
    const withoutMetadata = findRun(result, 'bare-nometa', workload);
    if (withoutMetadata) {
      const plain = withoutMetadata.wallMs / fastest.wallMs;
      targets.push({
        id: `flags-nometa-${workload}`,
        description: `Tidemark flags without -A/-X vs fastest reference, ${workloadLabels[workload]}`,
        measured: `${seconds(withoutMetadata.wallMs)} s vs ${methodLabels[fastest.method]} ${seconds(fastest.wallMs)} s (${plain.toFixed(2)}x)`,
        limit: '<= 1.00x',
        pass: plain <= 1,
        note: plain > 1 && plain <= 1.05 ? 'within 5 %, about the run-to-run noise' : undefined,
      });
    }
  }
  return targets;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** The human report printed at the end of a run. */
export function formatReport(result: BenchResult): string {
  const out: string[] = [];
  const c = result.config;
  out.push(
    `Tidemark bench: ${c.hosts} hosts x ${result.fleet.perHost.files} files (${result.fleet.perHost.hardLinks} hard links), ` +
      `${(result.fleet.totalMiB / c.hosts).toFixed(0)} MiB per host; concurrency ${c.concurrency}; ` +
      `${result.machine.nproc} cores, ${result.machine.cpuModel}, kernel ${result.machine.kernel}`,
  );
  out.push('');
  out.push(
    table(
      [
        'workload',
        'method',
        'wall s',
        'host median s',
        'MiB recv',
        'MiB sent',
        'machine CPU s',
        'zfs-fuse CPU s',
        'others CPU s (min)',
      ],
      result.runs.map((run) => [
        workloadLabels[run.workload],
        methodLabels[run.method] + (run.method === 'tidemark' ? ` (c=${c.concurrency})` : ''),
        seconds(run.wallMs),
        seconds(run.medianHostMs),
        mib(run.bytesReceived),
        mib(run.bytesSent),
        run.machineCpuS.toFixed(1),
        run.zfsFuseCpuS === undefined ? '-' : run.zfsFuseCpuS.toFixed(1),
        run.foreignCpuS === undefined ? '-' : run.foreignCpuS.toFixed(1),
      ]),
    ),
  );
  out.push('');
  out.push(
    table(
      [
        'workload',
        'Tidemark run',
        'worker CPU s',
        'rsync etc. CPU s',
        'worker peak RSS MiB',
        'Temporal CPU s',
        'max transfers',
      ],
      result.runs
        .filter((run) => run.worker)
        .map((run) => [
          workloadLabels[run.workload],
          run.method === 'tidemark' ? `fleet (c=${c.concurrency})` : '1 at a time',
          run.worker!.cpuS.toFixed(2),
          run.worker!.childCpuS?.toFixed(1) ?? '-',
          run.worker!.peakMiB?.toFixed(0) ?? '-',
          run.temporal?.cpuS.toFixed(2) ?? '-',
          String(run.maxConcurrentTransfers ?? '-'),
        ]),
    ),
  );
  out.push('');
  // Steps grouped in bench/tidemark.ts: planDataset (planBackup + ensureDataset, or the joined step),
  // snapshotRetention (takeSnapshot + listSnapshots + pruneSnapshots, or snapshotAndPrune), notify.
  const stepColumns = [
    'planDataset',
    'probeHost',
    'runHostHooks',
    'transferFiles',
    'snapshotRetention',
    'notify',
    'betweenSteps',
    'dispatch',
  ];
  const bareColumns = ['zfsCreate', 'rsync', 'zfsSnapshot'];
  out.push('per-host overhead: Tidemark one host at a time minus bare, medians over hosts (ms)');
  out.push(
    table(
      [
        'workload',
        'bare',
        'Tidemark',
        'overhead',
        'overhead %',
        ...bareColumns.map((step) => `bare ${step}`),
        ...stepColumns.map((step) => `TM ${step}`),
      ],
      workloads
        .filter((workload) => result.overhead[workload])
        .map((workload) => {
          const figures = result.overhead[workload]!;
          return [
            workloadLabels[workload],
            figures.medianBareMs.toFixed(0),
            figures.medianTidemarkMs.toFixed(0),
            figures.medianMs.toFixed(0),
            figures.medianPercent.toFixed(1),
            ...bareColumns.map((step) => figures.medianBareStepsMs[step]?.toFixed(0) ?? '-'),
            ...stepColumns.map((step) => figures.medianStepsMs[step]?.toFixed(0) ?? '-'),
          ];
        }),
    ),
  );
  out.push('');
  if (result.idle) {
    out.push(
      `idle ${result.idle.seconds} s: worker ${result.idle.workerCpuS.toFixed(2)} CPU s, Temporal ${result.idle.temporalCpuS?.toFixed(2) ?? '?'} CPU s ` +
        `= ${result.idle.percentOfOneCore.toFixed(2)} % of one core (${result.idle.percentOfMachine.toFixed(2)} % of the machine)`,
    );
  }
  if (result.memoryPhase) {
    out.push(
      `memory phase: fresh worker, concurrency ${result.memoryPhase.concurrency}, ${result.memoryPhase.hosts} first full backups at once: ` +
        `peak RSS ${result.memoryPhase.peakMiB.toFixed(0)} MiB, ${result.memoryPhase.maxConcurrentTransfers} transfers seen at once, ${seconds(result.memoryPhase.wallMs)} s`,
    );
  }
  out.push('');
  out.push('targets:');
  for (const target of result.targets) {
    const verdict = target.pass === null ? 'N/A ' : target.pass ? 'PASS' : 'MISS';
    out.push(
      `  ${verdict}  ${target.description}: ${target.measured} (target ${target.limit})${target.note ? ` — ${target.note}` : ''}`,
    );
  }
  return out.join('\n');
}

/** Median of each step's time over `runs` (ms, one decimal). */
export function medianSteps(runs: HostRun[]): Record<string, number> {
  const names = new Set(runs.flatMap((host) => Object.keys(host.steps ?? {})));
  const medians: Record<string, number> = {};
  for (const name of names) medians[name] = Math.round(median(runs.map((host) => host.steps?.[name] ?? 0)) * 10) / 10;
  return medians;
}
