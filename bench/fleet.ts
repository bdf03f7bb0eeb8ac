// The benchmark's fleet: loopback sshd hosts (devenv/sshd.ts) serving generated trees shaped like a
// small server: thousands of small text files, a few large binary ones, hard links and symlinks, all
// inside PlanB's default include allow-list so that every method copies the same data.
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLoopbackHost, type LoopbackHost } from '../devenv/sshd.js';

export interface TreeShape {
  /** Small files per host (100 B – 32 KiB, log-uniform). */
  files: number;
  /** Target total size per host in MiB; large files fill what the small ones leave. */
  mebibytes: number;
  /** Large files per host. */
  largeFiles: number;
}

export interface TreeStats {
  /** Regular files (inodes), hard links not counted twice. */
  files: number;
  hardLinks: number;
  symlinks: number;
  directories: number;
  bytes: number;
}

export interface FleetHost {
  /** Index from 1. */
  index: number;
  /** Inventory names: hNN (bare, reference and fleet runs), sNN (sequential Tidemark runs). */
  name: string;
  /** The tree this host serves (its backup path). */
  source: string;
  ssh: LoopbackHost;
  tree: TreeStats;
  /** Regular files, relative to `source`, for the changed-files workload. */
  regularFiles: string[];
}

export interface Fleet {
  dir: string;
  hosts: FleetHost[];
  /** Shared client key accepted by every host. */
  identityFile: string;
  /** known_hosts listing every host's key. */
  knownHostsFile: string;
  stop(): Promise<void>;
}

/** Small deterministic PRNG (mulberry32), so that trees and changes repeat between runs. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** PlanB's default include allow-list, top-level parts this generator fills. */
const roots = [
  'etc',
  'home/alice',
  'home/bob',
  'root',
  'srv/app',
  'usr/local/bin',
  'var/www/html',
  'var/backups',
  'var/spool/cron',
  'data',
];
const extensions = ['conf', 'txt', 'php', 'json', 'py', 'log', 'html', 'md'];
const words =
  'the backup host server file data config value system user service cron www php json error warning info debug request response table index cache session token mail queue job worker pool snapshot dataset stream block page'.split(
    ' ',
  );

/** ~256 KiB of compressible pseudo-text to cut small files from. */
function textCorpus(random: () => number): Buffer {
  const parts: string[] = [];
  let length = 0;
  while (length < 256 * 1024) {
    const line =
      Array.from({ length: 4 + Math.floor(random() * 10) }, () => words[Math.floor(random() * words.length)]).join(
        ' ',
      ) + ` ${Math.floor(random() * 1e6)}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join(''));
}

function smallFileSize(random: () => number): number {
  return Math.round(Math.exp(Math.log(100) + random() * (Math.log(32 * 1024) - Math.log(100))));
}

/** Writes a host's tree under `root`; deterministic in shape for a given seed. */
export function generateTree(
  root: string,
  shape: TreeShape,
  seed: number,
): { stats: TreeStats; regularFiles: string[] } {
  const random = prng(seed);
  const corpus = textCorpus(random);
  const stats: TreeStats = { files: 0, hardLinks: 0, symlinks: 0, directories: 0, bytes: 0 };
  const regularFiles: string[] = [];
  const dirs: string[] = [];
  const dirCount = Math.max(roots.length, Math.ceil(shape.files / 25));
  for (let d = 0; d < dirCount; d++) {
    const top = roots[d % roots.length]!;
    const dir = `${top}/g${Math.floor(d / roots.length) % 6}/d${d}`;
    mkdirSync(join(root, dir), { recursive: true });
    dirs.push(dir);
  }
  stats.directories = new Set(
    dirs.flatMap((dir) => dir.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))),
  ).size;

  for (let i = 0; i < shape.files; i++) {
    const dir = dirs[Math.floor(random() * dirs.length)]!;
    const relative = `${dir}/f${i}.${extensions[i % extensions.length]}`;
    const size = smallFileSize(random);
    const offset = Math.floor(random() * (corpus.length - size));
    writeFileSync(join(root, relative), corpus.subarray(offset, offset + size));
    if (dir.startsWith('home/')) chownSync(join(root, relative), 1000, 1000);
    regularFiles.push(relative);
    stats.files += 1;
    stats.bytes += size;
  }

  const budget = shape.mebibytes * 1024 * 1024 - stats.bytes;
  const largeSize = Math.max(256 * 1024, Math.floor(budget / Math.max(1, shape.largeFiles)));
  mkdirSync(join(root, 'data/db'), { recursive: true });
  for (let i = 0; i < shape.largeFiles; i++) {
    const relative = `data/db/table-${i}.ibd`;
    writeFileSync(join(root, relative), randomBytes(largeSize));
    regularFiles.push(relative);
    stats.files += 1;
    stats.bytes += largeSize;
  }

  // Hard links: 3% of the small files get a second name, and the first large file a ".bak" twin.
  mkdirSync(join(root, 'var/backups/links'), { recursive: true });
  const linkCount = Math.floor(shape.files * 0.03);
  for (let i = 0; i < linkCount; i++) {
    const target = regularFiles[Math.floor(random() * shape.files)]!;
    linkSync(join(root, target), join(root, `var/backups/links/l${i}-${target.split('/').pop()}`));
    stats.hardLinks += 1;
  }
  if (shape.largeFiles > 0) {
    linkSync(join(root, 'data/db/table-0.ibd'), join(root, 'var/backups/table-0.ibd.bak'));
    stats.hardLinks += 1;
  }
  // Symlinks: 1% of the small files are pointed at from usr/local/bin.
  mkdirSync(join(root, 'usr/local/bin/links'), { recursive: true });
  for (let i = 0; i < Math.max(1, Math.floor(shape.files / 100)); i++) {
    const target = regularFiles[Math.floor(random() * shape.files)]!;
    symlinkSync(`../../../../${target}`, join(root, `usr/local/bin/links/s${i}`));
    stats.symlinks += 1;
  }
  return { stats, regularFiles };
}

/** Changes `percent`% of the host's regular files (at least one): small ones rewritten with new text of
 * about the same size, large ones get 1 MiB overwritten in place. Returns the files changed. */
export function changeFiles(host: FleetHost, percent: number, seed: number): number {
  const random = prng(seed + host.index * 7919);
  const count = Math.max(1, Math.round((host.regularFiles.length * percent) / 100));
  const chosen = new Set<string>();
  while (chosen.size < Math.min(count, host.regularFiles.length)) {
    chosen.add(host.regularFiles[Math.floor(random() * host.regularFiles.length)]!);
  }
  for (const relative of chosen) {
    const path = join(host.source, relative);
    if (relative.startsWith('data/db/')) {
      const fd = openSync(path, 'r+');
      try {
        const block = randomBytes(1024 * 1024);
        writeSync(fd, block, 0, block.length, Math.floor(random() * 16) * 4096);
      } finally {
        closeSync(fd);
      }
    } else {
      const old = readFileSync(path);
      const line = Buffer.from(`changed ${Date.now()} ${random()}\n`);
      // An edit near the top: a new first line, the rest shifted (same size).
      writeFileSync(path, Buffer.concat([line, old.subarray(0, Math.max(0, old.length - line.length))]));
    }
  }
  return chosen.size;
}

/** A distinct 127.x.y.z block per bench process. */
function hostAddress(index: number): string {
  return `127.${90 + (process.pid % 60)}.${Math.floor(index / 250)}.${(index % 250) + 2}`;
}

/** Creates `count` hosts under `dir`, writes their trees and starts their sshd. */
export async function createFleet(
  dir: string,
  count: number,
  shape: TreeShape,
  log: (line: string) => void,
  /** Index (and so name and address) of the first host: a second fleet in the same run starts further on. */
  firstIndex = 1,
): Promise<Fleet> {
  const hosts: FleetHost[] = [];
  for (let start = 0; start < count; start += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, count - start) }, async (_, offset) => {
        const index = firstIndex + start + offset;
        const hostDir = join(dir, `host${String(index).padStart(2, '0')}`);
        const ssh = await createLoopbackHost(join(hostDir, 'ssh'), hostAddress(index - 1));
        return { index, hostDir, ssh };
      }),
    );
    for (const { index, hostDir, ssh } of batch) {
      const source = join(hostDir, 'src');
      const { stats, regularFiles } = generateTree(source, shape, 1000 + index);
      hosts.push({ index, name: `h${String(index).padStart(2, '0')}`, source, ssh, tree: stats, regularFiles });
    }
    log(`  fleet: ${hosts.length}/${count} hosts generated`);
  }
  // One client key and one known_hosts for the whole fleet (the inventory has one of each).
  const identityFile = hosts[0]!.ssh.identityFile;
  const publicKey = readFileSync(`${identityFile}.pub`);
  for (const host of hosts) await writeFile(join(host.ssh.identityFile, '..', 'authorized_keys'), publicKey);
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, hosts.flatMap(knownHostsLines).join('\n') + '\n');
  await Promise.all(hosts.map((host) => host.ssh.start()));
  return {
    dir,
    hosts,
    identityFile,
    knownHostsFile,
    async stop() {
      await Promise.all(hosts.map((host) => host.ssh.stop()));
    },
  };
}

/** Short per-host name used for the sequential Tidemark pass (its own dataset, same source). */
export function sequentialName(host: FleetHost): string {
  return `s${String(host.index).padStart(2, '0')}`;
}

/** Name for the 4-at-once memory phase (its own dataset, same source). */
export function memoryPhaseName(host: FleetHost): string {
  return `q${String(host.index).padStart(2, '0')}`;
}

/** Lets `main`'s key and known_hosts (the ones the inventory names) reach `other`'s hosts too. */
export async function admitFleet(main: Fleet, other: Fleet): Promise<void> {
  const publicKey = readFileSync(`${main.identityFile}.pub`);
  for (const host of other.hosts) await appendFile(join(host.ssh.identityFile, '..', 'authorized_keys'), publicKey);
  await appendFile(main.knownHostsFile, other.hosts.flatMap(knownHostsLines).join('\n') + '\n');
}

/** A fleet host's key under its address (as ssh-keyscan writes it) and under the names the benches use for
 * it: ssh checks a host's key under its name (HostKeyAlias), and the bare baselines run Tidemark's ssh
 * options without the worker's one-time copy from the address entry. */
function knownHostsLines(host: FleetHost): string[] {
  const key = host.ssh.hostKeyLine.split(' ').slice(1).join(' ');
  return [
    host.ssh.hostKeyLine,
    ...[host.name, sequentialName(host), memoryPhaseName(host)].map((name) => `${name} ${key}`),
  ];
}
