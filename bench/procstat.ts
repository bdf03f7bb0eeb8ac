// CPU time, memory and children of processes, read from /proc (Linux only).
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { execaSync } from 'execa';

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat (almost always 100). */
export const clockTicks = (() => {
  try {
    return Number(execaSync('getconf', ['CLK_TCK']).stdout.trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcCpu {
  /** utime + stime of the process itself, seconds. */
  self: number;
  /** cutime + cstime: children it has waited for (rsync, zfs, ssh), seconds. */
  children: number;
}

/** Fields of /proc/<pid>/stat after the command name (whose parentheses may hold spaces). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds of `pid`, or undefined when it is gone. */
export function processCpu(pid: number): ProcCpu | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  // After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17), 1-based over the whole line.
  const at = (field: number) => Number(fields[field - 3] ?? 0);
  return { self: (at(14) + at(15)) / clockTicks, children: (at(16) + at(17)) / clockTicks };
}

/** Parent pid and command name of `pid`. */
function parentAndName(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, comm };
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` named `comm` (e.g. the worker's rsync processes). */
export function childrenNamed(pid: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = parentAndName(Number(entry));
    if (info && info.ppid === pid && info.comm === comm) found.push(Number(entry));
  }
  return found;
}

/** VmHWM (peak resident set) and VmRSS of `pid` in MiB. */
export function processMemory(pid: number): { peakMiB: number; rssMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`); false when not allowed. */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (own, not reaped children: those would bring in CPU used before the phase) of every
 * process outside this process's tree and other than `exclude` (the shared zfs-fuse daemon), keyed by
 * pid. Two snapshots give a lower bound of how busy other users' jobs kept the machine during a phase
 * (processes that start and end between the snapshots are missed). */
export function foreignCpuSnapshot(exclude: number[] = []): Map<number, number> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    if (!fields) continue;
    parents.set(pid, Number(fields[1]));
    const at = (field: number) => Number(fields[field - 3] ?? 0);
    cpu.set(pid, (at(14) + at(15)) / clockTicks);
  }
  const ours = (pid: number): boolean => {
    for (let current = pid, depth = 0; current > 1 && depth < 64; depth++) {
      if (current === process.pid) return true;
      current = parents.get(current) ?? 0;
    }
    return false;
  };
  for (const pid of [...cpu.keys()]) if (ours(pid) || exclude.includes(pid)) cpu.delete(pid);
  return cpu;
}

/** CPU seconds the foreign processes used between two snapshots (new processes count in full). */
export function foreignCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat minus idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / clockTicks;
}

/** The pid listening on 127.0.0.1:`port` (TCP), found through /proc/net/tcp socket inodes. */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      if (!local || columns[3] !== '0A') continue;
      if (parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(columns[9] ?? '');
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return Number(entry);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** The zfs-fuse daemon's pid (its pid file), when there is one. */
export function zfsFusePid(): number | undefined {
  try {
    const pid = Number(readFileSync('/run/zfs-fuse.pid', 'utf8').trim());
    return processCpu(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Samples `sample` every `everyMs` until stopped; returns the samples' maximum. */
export function sampleMax(sample: () => number, everyMs = 200): { stop(): number } {
  let max = sample();
  const timer = setInterval(() => {
    max = Math.max(max, sample());
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      max = Math.max(max, sample());
      return max;
    },
  };
}
