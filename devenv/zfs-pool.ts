// A file-backed ZFS pool for tests and the demo: zfs-fuse on Debian, or OpenZFS where its module is loaded.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { waitFor } from './process.js';

/** True when `zpool` answers (a daemon or kernel module is there). */
async function zfsAnswers(): Promise<boolean> {
  const result = await execa('zpool', ['list', '-H'], { reject: false });
  return result.exitCode === 0;
}

/** Starts zfs-fuse (with xattr support, which rsync -X needs) unless ZFS already answers. */
export async function ensureZfsDaemon(): Promise<void> {
  if (await zfsAnswers()) return;
  if (!existsSync('/sbin/zfs-fuse') && !existsSync('/usr/sbin/zfs-fuse')) {
    throw new Error('no ZFS here: install zfs-fuse (Debian) or OpenZFS; scripts/setup.sh does it');
  }
  await execa('zfs-fuse', ['-x', '--pidfile', '/run/zfs-fuse.pid'], { reject: false });
  await waitFor('zfs-fuse daemon', zfsAnswers, 15_000);
}

export interface FilePoolOptions {
  name: string;
  imageFile: string;
  mountpoint: string;
  /** Sparse image size. Default "2G". */
  size?: string;
  /** Default true; tests turn it off so that sparse-file checks mean something. */
  compression?: boolean;
}

/** Imports or creates the pool; idempotent. */
export async function ensureFilePool(options: FilePoolOptions): Promise<void> {
  await ensureZfsDaemon();
  if ((await execa('zpool', ['list', '-H', options.name], { reject: false })).exitCode === 0) return;
  if (existsSync(options.imageFile)) {
    const imported = await execa('zpool', ['import', '-d', dirname(options.imageFile), options.name], { reject: false });
    if (imported.exitCode === 0) return;
  }
  await mkdir(dirname(options.imageFile), { recursive: true });
  await execa('truncate', ['-s', options.size ?? '2G', options.imageFile]);
  await execa('zpool', ['create', '-f', '-m', options.mountpoint, '-O', `compression=${options.compression === false ? 'off' : 'on'}`, options.name, options.imageFile]);
}

/** Destroys the pool (tests only). */
export async function destroyPool(name: string): Promise<void> {
  await execa('zpool', ['destroy', '-f', name], { reject: false });
}
