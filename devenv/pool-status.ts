// What `zpool status` says about a pool, read without running anything (devenv/zfs-pool.ts runs it).

/** Whether `zpool status` shows a pool that cannot be opened and whose devices are all files that no longer
 * exist (`exists` is asked for each). A pool with any other device, or that is online, is never such. */
export function poolOfVanishedFiles(status: string, exists: (path: string) => boolean): boolean {
  const state = /^\s*state:\s*(\S+)/m.exec(status)?.[1];
  if (!state || state === 'ONLINE' || state === 'DEGRADED') return false;
  const config = status.split(/^\s*config:\s*$/m)[1] ?? '';
  // The pool's own line, then its devices: only files, none of them there any more.
  const [, ...devices] = [
    ...config.matchAll(/^\s+(\S+)\s+(?:ONLINE|DEGRADED|FAULTED|OFFLINE|UNAVAIL|REMOVED)\b/gm),
  ].map((match) => match[1]!);
  return devices.length > 0 && devices.every((path) => path.startsWith('/') && !exists(path));
}
