// Where `restore --to-host` writes when no --target-dir is given, and the host-side step that makes that
// directory before the push. The default used to be a predictable name: whoever could create it first
// (a planted symlink, a group-writable root) decided where the root receiver wrote. Now each restore gets
// a fresh directory, `<restoreRoot>/<snapshot>-<nonce>/`, made 0700 over ssh by `freshTargetCommand`
// after that command has checked the restore root itself. Pure: the nonce comes from the caller.

/** Where a push to a host writes unless `hosts.<name>.restoreRoot` says otherwise; a host locked down with
 * `host-setup` admits a receiving rsync only beneath its root. */
export const defaultHostRestoreRoot = '/var/lib/tidemark/restore';

/** Hex digits of the nonce that makes each default target fresh and unguessable before the run. */
const nonceDigits = 8;

/** The default directory of one restore: `<restoreRoot>/<snapshot>-<nonce>/`, never the live system. */
export function defaultHostTargetDir(snapshot: string, nonce: string, restoreRoot = defaultHostRestoreRoot): string {
  if (!new RegExp(`^[0-9a-f]{${nonceDigits}}$`).test(nonce))
    throw new Error(`restore target nonce ${JSON.stringify(nonce)}: expected ${nonceDigits} hex digits`);
  return `${trimSlashes(restoreRoot)}/${snapshot}-${nonce}/`;
}

/** The name inside the restore root when `dir` is a default target of `snapshot`, else undefined (an
 * operator's --target-dir, which is written to as given). */
export function freshTargetName(
  dir: string,
  snapshot: string,
  restoreRoot = defaultHostRestoreRoot,
): string | undefined {
  const root = `${trimSlashes(restoreRoot)}/`;
  if (!dir.startsWith(root)) return undefined;
  const name = dir.slice(root.length).replace(/\/$/, '');
  return name.startsWith(`${snapshot}-`) && new RegExp(`-[0-9a-f]{${nonceDigits}}$`).test(name) ? name : undefined;
}

/** Exit code of `freshTargetCommand` when it refuses (ssh itself uses 255, the host filter 1). */
export const freshTargetRefusedExit = 3;

/**
 * The shell command that makes the default target on the host; the directory's name arrives on stdin so
 * the command is fixed per host (the host's ssh filter admits it as a `restore-target=` line). It refuses
 * a restore root that is a symlink, not owned by root (or, without sudo, the login user), or writable by group or others,
 * creates the root when missing, and creates the target with mkdir -m 0700, which fails on anything
 * already there. Only a 0700 directory of the right owner, left by an earlier attempt of this very
 * restore (the nonce is the run's), is accepted again. No backslashes: the filter's config cannot hold them.
 */
export function freshTargetCommand(restoreRoot: string, sudo: boolean): string {
  const root = trimSlashes(restoreRoot);
  if (!/^\/[A-Za-z0-9._+/ -]*$/.test(root) || root.includes('..'))
    throw new Error(`restoreRoot ${JSON.stringify(restoreRoot)} holds characters the host command cannot carry`);
  const privileged = sudo ? 'sudo -n ' : '';
  const refuse = (why: string) => `{ echo "tidemark: ${why}" >&2; exit ${freshTargetRefusedExit}; }`;
  // With sudo the receiving rsync runs as root: a root the login user owns would let that user swap the
  // target under it. Without sudo the login user writes as itself, into a root of its own or root's.
  const owners = sudo ? '0:*:directory' : `0:*:directory | "$(id -u)":*:directory`;
  const targets = sudo ? '0:700:directory' : `0:700:directory | "$(id -u)":700:directory`;
  return [
    `root='${root}'`,
    `IFS= read -r name || ${refuse('no directory name on stdin')}`,
    `case $name in '' | .* | *[!A-Za-z0-9._+-]*) ${refuse('restore directory name $name refused')} ;; esac`,
    `[ -e "$root" ] || [ -L "$root" ] || ${privileged}mkdir -p -- "$root" || ${refuse('cannot create $root')}`,
    `info=$(stat -c %u:%a:%F -- "$root") || ${refuse('cannot stat $root')}`,
    `case $info in ${owners}) ;; *) ${refuse('restore root $root must be a directory owned by root, not a symlink (owner:mode:type $info)')} ;; esac`,
    `mode=\${info#*:}`,
    `mode=\${mode%%:*}`,
    `case $mode in *[2367] | *[2367]?) ${refuse('restore root $root is writable by group or others (mode $mode): make it 0755 or 0700')} ;; esac`,
    `dir=$root/$name`,
    `${privileged}mkdir -m 0700 -- "$dir" 2>/dev/null && exit 0`,
    `info=$(stat -c %u:%a:%F -- "$dir") || ${refuse('cannot create $dir')}`,
    `case $info in ${targets}) exit 0 ;; esac`,
    refuse('$dir exists and is not a fresh 0700 directory (owner:mode:type $info)'),
  ].join('; ');
}

function trimSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
