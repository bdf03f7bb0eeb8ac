// What `tidemark verify` asks the backed-up host over ssh: size, mtime and type of a list of files, and
// their SHA-256. File names never go into the remote command line: they travel NUL-separated on stdin to
// `xargs -0`, so any byte a Linux name may hold (spaces, quotes, newlines, non-UTF-8) is passed as-is
// and nothing in a name can be read as shell syntax. Output records are NUL-terminated for the same reason.
import { sshArgv } from '../domain/rsync-args.js';
import { startChild } from '../subprocess/runner.js';
import type { BackupPlan } from '../domain/backup.js';

/** The ssh settings and login of the host being verified (a backup plan's fields of the same name). */
export type HostLogin = Pick<BackupPlan, 'ssh' | 'source'>;

/** `stat --printf` record: size, mtime (whole seconds), raw mode in hex, name; NUL-terminated. */
const statCommand = "xargs -0 -r stat --printf '%s %Y %f %n\\0' --";
/** `sha256sum -z`: NUL-terminated records and no escaping of odd names. */
const hashCommand = 'xargs -0 -r sha256sum -z --';

const regularFileType = 0o100000;
const fileTypeMask = 0o170000;
const callTimeoutMs = 30 * 60_000;

export interface HostFileState {
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  regular: boolean;
}

/** Parses `stat --printf '%s %Y %f %n\0'` output; keys are the names' bytes as latin1 (one char a byte). */
export function parseStatRecords(output: Buffer): Map<string, HostFileState> {
  const states = new Map<string, HostFileState>();
  for (const record of splitNul(output)) {
    const text = record.toString('latin1');
    const match = /^(\d+) (-?\d+) ([0-9a-f]+) /.exec(text);
    if (!match) throw new Error(`unexpected stat output from the host: ${JSON.stringify(text.slice(0, 200))}`);
    const mode = Number.parseInt(match[3]!, 16);
    states.set(text.slice(match[0].length), {
      size: Number(match[1]),
      mtime: Number(match[2]),
      regular: (mode & fileTypeMask) === regularFileType,
    });
  }
  return states;
}

/** Parses `sha256sum -z` output ("<hex>  <name>\0", or " *" before the name in binary mode). */
export function parseHashRecords(output: Buffer): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const record of splitNul(output)) {
    const text = record.toString('latin1');
    const match = /^([0-9a-f]{64}) [ *]/.exec(text);
    if (!match) throw new Error(`unexpected sha256sum output from the host: ${JSON.stringify(text.slice(0, 200))}`);
    hashes.set(text.slice(match[0].length), match[1]!);
  }
  return hashes;
}

function splitNul(output: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let start = 0;
  for (let end = output.indexOf(0); end !== -1; end = output.indexOf(0, start)) {
    records.push(output.subarray(start, end));
    start = end + 1;
  }
  return records;
}

/** Size, mtime and type of each path that exists on the host (absent ones are missing from the map). */
export async function statOnHost(login: HostLogin, paths: Buffer[]): Promise<Map<string, HostFileState>> {
  return parseStatRecords(await runWithNames(login, statCommand, paths, 'stat'));
}

/** SHA-256 (hex) of each readable path on the host. */
export async function hashOnHost(login: HostLogin, paths: Buffer[]): Promise<Map<string, string>> {
  return parseHashRecords(await runWithNames(login, hashCommand, paths, 'sha256sum'));
}

/** The two commands verify sends, as the host's ssh filter must admit them (host-setup writes them). */
export function verifyCommands(sudo: boolean): string[] {
  return [statCommand, hashCommand].map((command) => onHost(command, sudo));
}

function onHost(command: string, sudo: boolean): string {
  return sudo ? command.replace(/^xargs -0 -r /, 'xargs -0 -r sudo -n ') : command;
}

/** Runs `command` on the host with `paths` NUL-separated on stdin. A file that vanished makes xargs exit
 * 123: that is an answer (the file is left out), not a failure. ssh's own failures and a missing tool are. */
async function runWithNames(login: HostLogin, command: string, paths: Buffer[], what: string): Promise<Buffer> {
  if (paths.length === 0) return Buffer.alloc(0);
  const remote = onHost(command, login.source.sudo);
  const [, ...args] = sshArgv(login, remote);
  const input = Buffer.concat(paths.flatMap((path) => [path, Buffer.from([0])]));
  const run = startChild('ssh', args, {
    input,
    encoding: 'buffer',
    timeoutMs: callTimeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = await run.result;
  // encoding 'buffer': both streams are Uint8Arrays.
  const stderr = Buffer.from(result.stderr as Uint8Array)
    .toString('utf8')
    .trim();
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && exitCode !== 123) {
    const source = `${login.source.user}@${login.source.address}:${login.source.port}`;
    const why = run.timedOut() ? `timed out after ${callTimeoutMs / 60_000} min` : `exited ${exitCode}`;
    throw new Error(
      `${what} over ssh on ${source} ${why}: ${stderr.split('\n').slice(-5).join(' ') || '(no error output)'}`,
    );
  }
  return Buffer.from(result.stdout as Uint8Array);
}
