// Builds source trees with the awkward parts of a real system, and describes trees for comparison.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/** Bytes of a file name that is not valid UTF-8 ("caf\xe9 menu.txt"). */
export const nonUtf8Name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' menu.txt')]);

/** Regular files, a 20 MB sparse file, symlinks, hard links, modes, owners, an xattr, odd names. */
export async function buildSampleTree(root: string): Promise<void> {
  mkdirSync(join(root, 'etc/app'), { recursive: true });
  mkdirSync(join(root, 'var/lib/db'), { recursive: true });
  mkdirSync(join(root, 'empty dir'), { recursive: true });
  writeFileSync(join(root, 'etc/app/config.ini'), '[main]\nanswer = 42\n');
  writeFileSync(join(root, 'etc/app/secret.key'), 'not really secret\n', { mode: 0o600 });
  writeFileSync(join(root, 'var/lib/db/data.bin'), Buffer.alloc(300_000, 7));
  writeFileSync(join(root, 'run-me.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  chmodSync(join(root, 'run-me.sh'), 0o4755);
  writeFileSync(join(root, 'owned-by-1234'), 'owner test\n');
  chownSync(join(root, 'owned-by-1234'), 1234, 5678);
  writeFileSync(join(root, 'file with spaces.txt'), 'spaces\n');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), nonUtf8Name]), 'latin-1 name\n');
  // 20 MB with only its first 4 KiB written: sparse.
  writeFileSync(join(root, 'var/lib/db/sparse.img'), Buffer.alloc(4096, 1));
  truncateSync(join(root, 'var/lib/db/sparse.img'), 20 * 1024 * 1024);
  symlinkSync('app/config.ini', join(root, 'etc/config-link'));
  symlinkSync('/nonexistent/target', join(root, 'dangling-link'));
  linkSync(join(root, 'var/lib/db/data.bin'), join(root, 'etc/data-hardlink.bin'));
  await execa('setfattr', ['-n', 'user.tidemark', '-v', 'kept', join(root, 'etc/app/config.ini')]);
  utimesSync(join(root, 'etc/app/config.ini'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
}

export interface EntryDescription {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  mtime?: number;
  sha256?: string;
  target?: string;
  /** Other names of the same inode inside the tree (hard links). */
  links?: string[];
}

/** Every entry under `root`, keyed by relative name (hex for non-UTF-8 names), plus user xattrs. */
export async function describeTree(
  root: string,
): Promise<{ entries: Record<string, EntryDescription>; xattrs: string[] }> {
  const entries: Record<string, EntryDescription> = {};
  const byInode = new Map<number, string[]>();
  const walk = (relative: Buffer[]) => {
    const absolute = Buffer.concat([
      Buffer.from(root),
      ...relative.map((part) => Buffer.concat([Buffer.from('/'), part])),
    ]);
    for (const name of readdirSync(absolute, { encoding: 'buffer' })) {
      const path = [...relative, name];
      const full = Buffer.concat([absolute, Buffer.from('/'), name]);
      const key = path.map((part) => (isUtf8(part) ? part.toString() : `hex:${part.toString('hex')}`)).join('/');
      const stat = lstatSync(full);
      const base = { mode: (stat.mode & 0o7777).toString(8), uid: stat.uid, gid: stat.gid };
      if (stat.isDirectory()) {
        entries[key] = { type: 'dir', ...base, mtime: Math.floor(stat.mtimeMs / 1000) };
        walk(path);
      } else if (stat.isSymbolicLink()) {
        entries[key] = { type: 'symlink', ...base, target: readlinkSync(full, 'utf8') };
      } else if (stat.isFile()) {
        entries[key] = {
          type: 'file',
          ...base,
          size: stat.size,
          mtime: Math.floor(stat.mtimeMs / 1000),
          sha256: createHash('sha256').update(readFileSync(full)).digest('hex'),
        };
        if (stat.nlink > 1) byInode.set(stat.ino, [...(byInode.get(stat.ino) ?? []), key]);
      } else {
        entries[key] = { type: 'other', ...base };
      }
    }
  };
  walk([]);
  for (const names of byInode.values())
    for (const name of names) entries[name]!.links = names.filter((other) => other !== name).sort();
  // getfattr lists in directory order, which differs between filesystems: sort its per-file blocks.
  const dump = (
    await execa('getfattr', ['-R', '-h', '-d', '-m', '^user\\.', '-e', 'hex', '.'], { cwd: root, reject: false })
  ).stdout;
  const xattrs = dump
    .split('\n\n')
    .map((block) => block.trim())
    .filter(Boolean)
    .sort();
  return { entries, xattrs };
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8')).equals(bytes);
}

/** Bytes actually allocated for a file. */
export function allocatedBytes(path: string): number {
  return lstatSync(path).blocks * 512;
}
