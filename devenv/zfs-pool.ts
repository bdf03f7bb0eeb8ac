// A file-backed ZFS pool for tests and the demo: zfs-fuse on Debian, or OpenZFS where its module is loaded.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { isAlive, waitFor } from './process.js';
import { poolOfVanishedFiles } from './pool-status.js';

const pidFile = '/run/zfs-fuse.pid';

/** Removes a pid file left by a daemon killed with its machine: zfs-fuse refuses to start while it exists. */
function removeStalePidFile(): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) rmSync(pidFile, { force: true });
}

/** True when `zpool` answers (a daemon or kernel module is there). */
async function zfsAnswers(): Promise<boolean> {
  const result = await execa('zpool', ['list', '-H'], { reject: false });
  return result.exitCode === 0;
}

/**
 * With no daemon running, every zfs-fuse mount left in the mount table is dead ("Transport endpoint is
 * not connected"), and the restarted daemon could not mount the pool over it: detach them, deepest first.
 */
async function unmountDeadZfsMounts(): Promise<void> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'fuse.zfs' || fields[2] === 'fuse.zfs-fuse')
    .map((fields) => fields[1]!.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const mountpoint of mounts) await execa('umount', ['-l', mountpoint], { reject: false });
}

/** Starts zfs-fuse (with xattr support, which rsync -X needs) unless ZFS already answers. */
export async function ensureZfsDaemon(): Promise<void> {
  if (await zfsAnswers()) return;
  if (!existsSync('/sbin/zfs-fuse') && !existsSync('/usr/sbin/zfs-fuse')) {
    throw new Error('no ZFS here: install zfs-fuse (Debian) or OpenZFS; scripts/setup.sh does it');
  }
  removeStalePidFile();
  await unmountDeadZfsMounts();
  const started = await execa('zfs-fuse', ['-x', '--pidfile', pidFile], { reject: false, all: true });
  try {
    await waitFor('zfs-fuse daemon', zfsAnswers, 15_000);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; zfs-fuse exited ${started.exitCode}: ${started.all?.trim() || '(no output)'}`,
      { cause: error },
    );
  }
}

export interface FilePoolOptions {
  name: string;
  imageFile: string;
  mountpoint: string;
  /** Sparse image size. Default "2G". */
  size?: string;
  /**
   * Default true, as production pools are (SOWN's `-O compression=lz4`): ZFS then stores all-zero blocks as
   * holes, so a sparse file that rsync had to fill with zeros (no punch-hole on zfs-fuse) stays sparse.
   * The benchmark turns it off so that compression CPU does not blur transfer times.
   */
  compression?: boolean;
}

/** Removes `folder` and its subfolders when they hold no files (never a file, never a mount in use). */
function removeEmptyFolders(folder: string): void {
  if (!existsSync(folder)) return;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyFolders(join(folder, entry.name));
  }
  try {
    rmdirSync(folder);
  } catch {
    // Not empty (or busy): zpool create will say so.
  }
}

/** Imports or creates the pool; idempotent. */
export async function ensureFilePool(options: FilePoolOptions): Promise<void> {
  await ensureZfsDaemon();
  if ((await execa('zpool', ['list', '-H', options.name], { reject: false })).exitCode === 0) {
    const status = (await execa('zpool', ['status', options.name], { reject: false })).stdout;
    if (!poolOfVanishedFiles(status, existsSync)) return;
    // A checkout that was deleted left the pool behind, and zfs-fuse imports it again at every start: its
    // file is gone, so it holds nothing that can be read, and as long as it is there no pool of that name
    // can be made.
    console.log(`${options.name}: the pool's file is gone (left by a deleted checkout); making it afresh`);
    await execa('zpool', ['destroy', '-f', options.name]);
  }
  if (existsSync(options.imageFile)) {
    const imported = await execa('zpool', ['import', '-d', dirname(options.imageFile), options.name], {
      reject: false,
    });
    if (imported.exitCode === 0) return;
  }
  await mkdir(dirname(options.imageFile), { recursive: true });
  // Empty folders left at the mountpoint by an earlier pool would make zpool create refuse it.
  removeEmptyFolders(options.mountpoint);
  await execa('truncate', ['-s', options.size ?? '2G', options.imageFile]);
  await execa('zpool', [
    'create',
    '-f',
    '-m',
    options.mountpoint,
    '-O',
    `compression=${options.compression === false ? 'off' : 'on'}`,
    options.name,
    options.imageFile,
  ]);
}

/** Destroys the pool (tests only). */
export async function destroyPool(name: string): Promise<void> {
  await execa('zpool', ['destroy', '-f', name], { reject: false });
}

/**
 * Destroys pools named `<prefix><pid>` whose process is gone (a killed test or bench run), with their
 * image files under `folder`. zfs-fuse re-imports every pool it knew when it restarts, so without this
 * they pile up.
 */
export async function removeStalePools(prefix: string, folder: string): Promise<void> {
  await ensureZfsDaemon();
  const staleName = (name: string) => {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : NaN;
    return Number.isInteger(pid) && !isAlive(pid);
  };
  const pools = (await execa('zpool', ['list', '-H', '-o', 'name'], { reject: false })).stdout.split('\n');
  for (const name of pools.filter(staleName)) await destroyPool(name);
  // Images and mountpoints of pools the daemon no longer knows.
  const leftovers = existsSync(folder) ? readdirSync(folder).map((entry) => entry.replace(/\.img$/, '')) : [];
  for (const name of new Set(leftovers.filter(staleName))) {
    for (const path of [join(folder, `${name}.img`), join(folder, name)]) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // A mountpoint still held by a dead FUSE mount: harmless, left for a reboot.
      }
    }
  }
}
