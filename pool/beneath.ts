// Looking a host's path up inside a snapshot without leaving it: the snapshot holds what the host made,
// symlinks included, and the kernel would resolve an absolute link ("/home/alice -> /etc/tidemark")
// against the backup server's own root. Each component but the last is checked with lstat and must be
// a real directory; the last one is described as it is (a symlink stays a symlink).
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

export type BeneathLookup =
  | { found: true; full: string; stat: Stats }
  | { found: false; why: 'missing' }
  | { found: false; why: 'symlink'; at: string };

/** `relative` ("etc/nginx", "" for the root) looked up beneath `root` without following any symlink on the way. */
export async function lookupBeneath(root: string, relative: string): Promise<BeneathLookup> {
  const parts = relative.split('/').filter(Boolean);
  let full = root;
  for (const [index, part] of parts.entries()) {
    full = join(full, part);
    const stat = await lstat(full).catch(() => undefined);
    if (!stat) return { found: false, why: 'missing' };
    if (index === parts.length - 1) return { found: true, full, stat };
    if (stat.isSymbolicLink()) return { found: false, why: 'symlink', at: `/${parts.slice(0, index + 1).join('/')}` };
    if (!stat.isDirectory()) return { found: false, why: 'missing' };
  }
  return { found: true, full: root, stat: await lstat(root) };
}
