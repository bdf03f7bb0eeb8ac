// The steps on the backed-up host before rsync (SOWN hook scripts, PlanB's do-not-run veto, reading
// its mount table and exclude file) and the backup server's own before/after scripts. Pure: settings,
// the fixed remote command strings, parsers of their output, and what the run summary records.

/** Host-side settings, resolved from the inventory (paths validated to [A-Za-z0-9._/+-], no ".."). */
export interface HostStepsPlan {
  hooks: {
    /** Directory of hook scripts on the host, run with run-parts. Default /etc/backup-scripts. */
    dir: string;
    /** The whole run-parts call is killed after this long (on the host by `timeout`). Default 30m. */
    timeoutMs: number;
    /** "continue" (SOWN: the run is FAILED but the copy and snapshot still happen) or "abort". */
    onFailure: 'continue' | 'abort';
  };
  veto: {
    /** Files in this directory on the host postpone the run. Default /var/lib/backup/do-not-run.d. */
    dir: string;
    retryIntervalMs: number;
    /** Checks after the first before the run gives up (WARNING, nothing copied). Default 24. */
    retries: number;
  };
  selection: {
    /** "mounts": every local filesystem at or under `root`, from the host's mount table at backup time;
     * "explicit": the inventory's `paths`. */
    mode: 'mounts' | 'explicit';
    /** Default "/". */
    root: string;
    includeNetworkMounts: boolean;
    /** Filesystem types to copy besides the built-in local ones, e.g. "fuse.mergerfs". */
    extraTypes: string[];
  };
  /** The host's exclude file, read at backup time. Default /etc/backup-exclude.conf. */
  excludeFile: string;
  /** Whether the built-in list applies when the backup covers the root (default true). */
  standardExcludes: boolean;
  /** Scripts on the backup server itself (from `servers.<name>.hooks`). */
  server: { before?: string; after?: string; timeoutMs: number };
}

/** What `probeHost` found on the host. */
export interface HostProbe {
  /** Names in the veto directory (empty: go ahead). */
  vetoFiles: string[];
  /** Mount-table selection (mode "mounts") or the inventory's paths. */
  paths: string[];
  /** Mounts under the root not copied, e.g. "/run tmpfs (pseudo)"; at most 20 listed. */
  skippedMounts: string[];
  skippedMountCount: number;
  hostExcludes: string[];
  /** "line 3: var/cache: relative path …" */
  malformedExcludes: string[];
  excludeFilePresent: boolean;
  /** No hook directory on the host: the hook step is skipped. Undefined in runs probed by older workers. */
  hooksAbsent?: boolean;
}

/** How the host's hook scripts went. */
export interface HookResult {
  status: 'passed' | 'failed' | 'timeout' | 'absent';
  /** Scripts that failed, with their exit codes, e.g. "/etc/backup-scripts/10-db (exit 3)". */
  failed: string[];
  /** Last lines of the hooks' output (run-parts --report names each script before its output). */
  outputTail: string[];
  exitCode: number;
  durationMs: number;
}

/** How a backup-server script went. */
export interface ServerHookResult {
  script: string;
  ok: boolean;
  exitCode: number | null;
  outputTail: string[];
}

/** Recorded in the run summary (counts and names only). */
export interface HostStepsSummary {
  hooks: { status: HookResult['status'] | 'skipped'; failed: string[] };
  /** Times the veto postponed this run. */
  vetoed: number;
  selection: { mode: 'mounts' | 'explicit'; paths: string[]; skippedMounts: string[] };
  excludes: { standard: number; inventory: number; host: number; total: number; malformed: string[] };
  serverHooks: { before?: boolean; after?: boolean };
}

/** Each path is put in the remote command in double quotes; the schema allows only these characters. */
export const safeRemotePath = /^\/[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*\/?$/;

function checked(path: string): string {
  if (!safeRemotePath.test(path) || path.split('/').includes('..'))
    throw new Error(`unsafe remote path ${JSON.stringify(path)}`);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Files the exclude file may not be: what the probe reads is copied into the run's plan and history, and
 * read as root on most hosts. Secrets (password hashes, private keys, sudo rules, root's home) and the kernel's
 * pseudo-filesystems (/proc/self/environ, /dev/zero) are refused. */
const secretHostFiles: [RegExp, string][] = [
  [/^\/(proc|sys|dev|run)(\/|$)/, "is in a kernel or runtime filesystem, not a file on the host's disk"],
  [/^\/etc\/(g?shadow|security\/opasswd|sudoers|krb5\.keytab)([-.+/]|$)/, 'holds passwords or access rules'],
  [/^\/etc\/(ssh|ssl\/private|pki|tidemark)(\/|$)/, 'holds private keys'],
  [/^\/root(\/|$)/, "is in root's home"],
  [/\/\.(ssh|gnupg)(\/|$)/, 'holds private keys'],
];

/** Why `path` may not be a host's exclude file, or undefined. */
export function excludeFileProblem(path: string): string | undefined {
  const normal = path.replace(/\/+/g, '/');
  const secret = secretHostFiles.find(([pattern]) => pattern.test(normal));
  if (!secret) return undefined;
  return `${path} ${secret[1]}: its lines would be read into the run's history; name a file of exclude patterns only, e.g. /etc/backup-exclude.conf`;
}

/** Wraps a POSIX sh script (no single quotes inside) for ssh, whatever the remote login shell is. */
function shell(script: string): string {
  if (script.includes("'")) throw new Error('remote script may not contain single quotes');
  return `sh -c '${script}'`;
}

/**
 * One ssh call reading: the veto directory's entries, the mount table, the exclude file, and whether the
 * hook directory exists (when it does not, the hook step needs no ssh call). Sections start with `marker`
 * lines (a random token per call, so file contents cannot fake one).
 */
export function probeCommand(
  vetoDir: string,
  excludeFile: string,
  marker: string,
  hookDir = '/etc/backup-scripts',
): string {
  if (!/^[a-z0-9]{8,64}$/.test(marker)) throw new Error('bad marker');
  const veto = checked(vetoDir);
  const file = checked(excludeFile);
  const secret = excludeFileProblem(file);
  if (secret) throw new Error(`excludeFile: ${secret}`);
  const hooks = checked(hookDir);
  return shell(
    [
      `m=${marker}`,
      'echo "$m veto"',
      `if [ -d "${veto}" ]; then ls -A1 "${veto}"; fi`,
      'echo "$m mounts"',
      'cat /proc/self/mounts',
      'echo "$m excludes"',
      `if [ -r "${file}" ]; then echo "$m present"; cat "${file}"; echo; elif [ -e "${file}" ]; then echo "$m unreadable"; fi`,
      `if [ ! -d "${hooks}" ]; then echo "$m hooks-absent"; fi`,
      'echo "$m end"',
    ].join('; '),
  );
}

export interface ProbeOutput {
  veto: string[];
  mounts: string;
  excludes: { present: boolean; unreadable: boolean; text: string };
  /** The hook directory does not exist (the same test the hook command makes). */
  hooksAbsent: boolean;
}

/** Splits `probeCommand`'s output; undefined when a section is missing (the command did not finish).
 * Sections are sliced out between marker lines, never split into lines here: a host's mount table may be
 * ~200k lines, and this runs on the worker's event loop. */
export function parseProbeOutput(stdout: string, marker: string): ProbeOutput | undefined {
  const tag = `${marker} `;
  const nextTag = (from: number) => {
    const found = stdout.indexOf(`\n${tag}`, from);
    return found === -1 ? -1 : found + 1;
  };
  const sections = new Map<string, string>();
  let open: { name: string; from: number } | undefined;
  for (let at = stdout.startsWith(tag) ? 0 : nextTag(0); at !== -1;) {
    const lineEnd = stdout.indexOf('\n', at);
    if (open) sections.set(open.name, stdout.slice(open.from, Math.max(open.from, at - 1)));
    open = {
      name: stdout.slice(at + tag.length, lineEnd === -1 ? undefined : lineEnd),
      from: lineEnd === -1 ? stdout.length : lineEnd + 1,
    };
    at = lineEnd === -1 ? -1 : nextTag(lineEnd);
  }
  if (open) sections.set(open.name, stdout.slice(open.from));
  if (!sections.has('veto') || !sections.has('mounts') || !sections.has('excludes') || !sections.has('end'))
    return undefined;
  return {
    veto: sections
      .get('veto')!
      .split('\n')
      .filter((line) => line !== ''),
    mounts: sections.get('mounts')!,
    excludes: {
      present: sections.has('present'),
      unreadable: sections.has('unreadable'),
      text: sections.get('present') ?? '',
    },
    hooksAbsent: sections.has('hooks-absent'),
  };
}

/**
 * The hook call: nothing when the directory is missing, else `run-parts --report DIR` (every script runs;
 * run-parts names each before its output and each failure on stderr) under `timeout` on the host, which
 * kills the scripts' process group when the time is up. A watcher holds ssh's stdin: when the backup
 * server drops the connection (cancel, worker death), it sees end-of-file and kills the hooks too.
 */
export function hookCommand(dir: string, timeoutSeconds: number, sudo: boolean, marker: string): string {
  if (!/^[a-z0-9]{8,64}$/.test(marker)) throw new Error('bad marker');
  const hooks = checked(dir);
  const seconds = Math.max(1, Math.ceil(timeoutSeconds));
  return shell(
    [
      `d="${hooks}"`,
      `if [ ! -d "$d" ]; then echo "${marker} absent"; exit 0; fi`,
      'exec 3<&0 </dev/null',
      `${sudo ? 'sudo -n ' : ''}timeout -k 10 ${seconds} run-parts --report "$d" 3<&- &`,
      'p=$!',
      '{ cat <&3 >/dev/null 2>&1; kill -TERM $p 2>/dev/null; } >/dev/null 2>&1 &',
      'exec 3<&-',
      'wait $p',
      's=$?',
      `echo "${marker} exit $s"`,
      'exit $s',
    ].join('\n'),
  );
}

/** Reads `hookCommand`'s outcome from its output and exit code. */
export function parseHookOutput(
  output: { stdout: string; stderr: string; exitCode: number },
  marker: string,
): Pick<HookResult, 'status' | 'failed' | 'outputTail' | 'exitCode'> | undefined {
  if (output.stdout.split('\n').includes(`${marker} absent`))
    return { status: 'absent', failed: [], outputTail: [], exitCode: 0 };
  // Only the command's own line counts: hooks may print look-alikes such as "mysqldump exit 0".
  const exitLine = output.stdout
    .split('\n')
    .map((line) => /^([a-z0-9]+) exit (\d+)$/.exec(line))
    .filter((match) => match?.[1] === marker)
    .at(-1);
  if (!exitLine) return undefined;
  const exitCode = Number(exitLine[2]);
  const lines = `${output.stdout}\n${output.stderr}`
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !line.startsWith(`${marker} `));
  const failed: string[] = [];
  for (const match of output.stderr.matchAll(/^run-parts: (.+?) exited with return code (\d+)$/gm))
    failed.push(`${match[1]!.replace(/\/\/+/g, '/')} (exit ${match[2]})`);
  for (const match of output.stderr.matchAll(/^run-parts: (.+?) (?:was )?(?:terminated|killed) by signal (\d+)$/gm))
    failed.push(`${match[1]!.replace(/\/\/+/g, '/')} (signal ${match[2]})`);
  const outputTail = lines.filter((line) => !/^run-parts: .* exited with return code/.test(line)).slice(-10);
  if (exitCode === 0) return { status: 'passed', failed: [], outputTail, exitCode };
  // timeout(1): 124 when the time ran out, 137 when the scripts ignored SIGTERM and were killed.
  if (exitCode === 124 || exitCode === 137) {
    // run-parts names a script when it first prints; the last one named is the likely one still running.
    const running = [...output.stdout.matchAll(/^(\/\S+):$/gm)].at(-1)?.[1];
    if (failed.length === 0 && running)
      failed.push(`${running.replace(/\/\/+/g, '/')} (running when the time ran out)`);
    return { status: 'timeout', failed, outputTail, exitCode };
  }
  if (failed.length === 0) {
    const reason =
      exitCode === 127
        ? 'run-parts or timeout not found on the host'
        : exitCode === 126
          ? 'run-parts could not be executed'
          : `run-parts exited ${exitCode}`;
    failed.push(reason);
  }
  return { status: 'failed', failed, outputTail, exitCode };
}

/** One line for the summary: which scripts failed and the end of their output. */
export function describeHookFailure(result: HookResult, dir: string, timeoutMs: number): string {
  const tail = result.outputTail.slice(-5).join(' | ').slice(-600);
  const what =
    result.status === 'timeout'
      ? `hook scripts in ${dir} timed out after ${Math.round(timeoutMs / 1000)}s${result.failed.length ? ` (${result.failed.join(', ')})` : ''}`
      : `hook ${result.failed.join(', ')} failed`;
  return `${what}${tail ? `; output: ${tail}` : ''}`;
}
