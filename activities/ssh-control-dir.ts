// The folder holding the runs' ssh control sockets. Whoever can put a socket there can stand in for a
// host's ssh connection, so it must be a real directory of ours that nobody else can enter. Anything else
// found there costs the run its multiplexing (one login per step), never the run itself.
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

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
  // A parent someone else may write lets them swap the folder (or a symlinked parent) for one of theirs.
  const parent = await unsafeParent(resolve(dir), uid);
  if (parent) return parent;
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

/** Why a parent of `dir` (as written, and after resolving its symlinks) could let another user replace the
 * folder, or undefined. Parents must belong to root or this uid and admit no other writer, unless sticky
 * (/tmp: nobody else may rename or remove what is ours inside it). Parents that do not exist yet are made
 * by us with mode 0700. */
async function unsafeParent(dir: string, uid: number | undefined): Promise<string | undefined> {
  const literal = ancestors(dirname(dir));
  const real = await realpath(dirname(dir)).then(
    (path) => ancestors(path),
    () => [],
  );
  for (const path of new Set([...literal, ...real])) {
    const found = await lstat(path).catch(() => undefined);
    if (!found || found.isSymbolicLink()) continue; // missing: made by us; a link: its own folder is checked
    if (!found.isDirectory()) return `its parent ${path} is not a directory; set ssh.controlDir`;
    if (found.uid !== 0 && found.uid !== uid)
      return `its parent ${path} belongs to uid ${found.uid}, who could replace it; set ssh.controlDir to a folder under one of root's or this worker's`;
    if ((found.mode & 0o022) !== 0 && (found.mode & 0o1000) === 0)
      return `its parent ${path} has mode ${(found.mode & 0o777).toString(8)}, so others could replace it; chmod go-w ${path} or set ssh.controlDir`;
  }
  return undefined;
}

/** "/a/b/c" → ["/", "/a", "/a/b", "/a/b/c"]. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, index) => `/${parts.slice(0, index + 1).join('/')}`)];
}
