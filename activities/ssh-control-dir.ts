// The folder holding the runs' ssh control sockets. Whoever can put a socket there can stand in for a
// host's ssh connection, so it must be a real directory of ours that nobody else can enter. Anything else
// found there costs the run its multiplexing (one login per step), never the run itself.
import { lstat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** root: /run/tidemark/ssh (a root-owned runtime folder); others: $XDG_RUNTIME_DIR/tidemark-ssh, else
 * <tmpdir>/tidemark-ssh-<uid>. */
export function defaultControlDir(
  uid: number | undefined = process.getuid?.(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (uid === 0) return '/run/tidemark/ssh';
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, 'tidemark-ssh');
  return join(tmpdir(), `tidemark-ssh-${uid ?? 'user'}`);
}

/** Makes `dir` (mode 0700) when missing; answers undefined when it may hold our sockets, else why not
 * and what to do about it. */
export async function controlDirProblem(
  dir: string,
  uid: number | undefined = process.getuid?.(),
): Promise<string | undefined> {
  let created: Error | undefined;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // A file or a dangling symlink in the way: lstat below says which.
    created = error as Error;
  }
  // lstat, not stat: a symlink to a directory would hand our sockets to whoever controls the link.
  const found = await lstat(dir).catch(() => undefined);
  if (!found)
    return `cannot create it (${created?.message ?? 'it vanished'}); create it with mode 700 or set ssh.controlDir`;
  if (found.isSymbolicLink())
    return 'it is a symbolic link; remove it (a real directory with mode 700 is made in its place)';
  if (!found.isDirectory()) return 'it is not a directory; remove it (a directory with mode 700 is made in its place)';
  if (uid !== undefined && found.uid !== uid)
    return `it belongs to uid ${found.uid}, not to this worker's uid ${uid}; remove it or set ssh.controlDir`;
  if ((found.mode & 0o077) !== 0)
    return `its mode is ${(found.mode & 0o777).toString(8)}, so others can enter it; chmod 700 ${dir}`;
  return undefined;
}
