// ssh checks a machine's host key under the machine's name (HostKeyAlias, domain/rsync-args.ts), while the
// known_hosts files written before that list machines by address ("[addr]:port", or "addr" on port 22).
// Before a run's first ssh to a machine, the keys of its address are copied under its name, once: the
// operator has nothing to do, and checking is no weaker, since the name takes exactly the keys (and the
// revocations) its address had. A name that has an entry of its own is never given another key: a
// different key under the name must fail as a host-key mismatch naming the name.
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkedHostKeyAlias } from '../domain/rsync-args.js';
import { startChild } from './runner.js';

export interface HostKeyName {
  knownHostsFile: string;
  /** The name ssh looks the key up under (HostKeyAlias). */
  alias: string;
  /** Where ssh connects: the pattern old entries were written under. */
  address: string;
  port: number;
}

/** One known_hosts line as `ssh-keygen -F` prints it: an optional marker, the host pattern, the key. */
export interface KnownHostsEntry {
  marker?: '@revoked' | '@cert-authority';
  keyType: string;
  key: string;
}

/** Appends to one file are made one at a time in this process (runs of several hosts start together). */
const fileLocks = new Map<string, Promise<void>>();

/**
 * Copies the keys known_hosts has for the address under `alias` when the alias has no entry yet; says so
 * once through `log`. Returns the lines added (none when there was nothing to do). Throws when the alias
 * is no plain host name, or when the file cannot take the lines (the message names the file and the lines).
 */
export async function adoptAddressKeys(
  target: HostKeyName,
  log: (message: string) => void = () => {},
): Promise<string[]> {
  const alias = checkedHostKeyAlias(target.alias);
  const file = resolve(target.knownHostsFile);
  const before = fileLocks.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((done) => (release = done));
  const queued = before.then(() => mine);
  fileLocks.set(file, queued);
  await before;
  try {
    return await adoptLocked({ ...target, alias, knownHostsFile: file }, log);
  } finally {
    release();
    if (fileLocks.get(file) === queued) fileLocks.delete(file);
  }
}

async function adoptLocked(target: HostKeyName, log: (message: string) => void): Promise<string[]> {
  const file = target.knownHostsFile;
  // No file: nothing to copy from; ssh says the key is not known, naming the name.
  if (!(await stat(file).catch(() => undefined))) return [];
  if ((await entriesFor(file, target.alias)).some((entry) => entry.marker !== '@revoked')) return [];
  const pattern = addressPattern(target.address, target.port);
  const found = await entriesFor(file, pattern);
  // Only revocations for the address: no key to trust, nothing to copy.
  if (!found.some((entry) => entry.marker !== '@revoked')) return [];
  const lines = [
    ...new Set(
      found.map(
        (entry) =>
          `${entry.marker ? `${entry.marker} ` : ''}${target.alias} ${entry.keyType} ${entry.key} copied by tidemark from ${pattern}`,
      ),
    ),
  ];
  await appendLines(file, lines, target.alias);
  log(
    `known_hosts ${file}: ${target.alias}'s host key is now listed under its name too, copied from its address ` +
      `entry ${pattern} (${lines.length} line${lines.length === 1 ? '' : 's'}); ssh checks ${target.alias} under its name from now on`,
  );
  return lines;
}

/** How ssh names an address in known_hosts: the bare address on port 22, else "[addr]:port". */
export function addressPattern(address: string, port: number): string {
  return port === 22 ? address.toLowerCase() : `[${address.toLowerCase()}]:${port}`;
}

/** The entries `ssh-keygen -F name` finds (hashed lines, patterns and markers as ssh itself reads them). */
export async function entriesFor(file: string, name: string): Promise<KnownHostsEntry[]> {
  // No file yet (a fresh install): nothing is listed, as ssh itself sees it.
  if (!(await stat(file).catch(() => undefined))) return [];
  const run = startChild('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8', timeoutMs: 30_000 });
  const result = await run.result;
  // 0: found, 1: not found; anything else is ssh-keygen's own trouble (an unreadable file).
  if (result.exitCode === 1) return [];
  if (result.exitCode !== 0)
    throw new Error(
      `ssh-keygen -F ${name} -f ${file} exited ${result.exitCode ?? 'on a signal'}: ${String(result.stderr).trim() || '(no error output)'}`,
    );
  return String(result.stdout)
    .split('\n')
    .flatMap((line) => {
      const entry = parseEntry(line.trim());
      return entry ? [entry] : [];
    });
}

export function parseEntry(line: string): KnownHostsEntry | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const fields = line.split(/\s+/);
  const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? fields.shift() : undefined;
  if (fields[0]?.startsWith('@')) return undefined;
  const [, keyType, key] = fields;
  if (!keyType || !key || !/^[A-Za-z0-9@.-]+$/.test(keyType) || !/^[A-Za-z0-9+/]+={0,3}$/.test(key)) return undefined;
  return { ...(marker ? { marker: marker as KnownHostsEntry['marker'] } : {}), keyType, key };
}

/** One write of whole lines with O_APPEND: what others append meanwhile is never overwritten or split. */
async function appendLines(file: string, lines: string[], alias: string): Promise<void> {
  try {
    const text = await readFile(file);
    const separator = text.length > 0 && text[text.length - 1] !== 0x0a ? '\n' : '';
    const handle = await open(file, 'a');
    try {
      await handle.write(`${separator}${lines.join('\n')}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new Error(
      `cannot add ${alias}'s host key under its name to ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ` +
        `ssh checks ${alias} under its name. Let this worker's user append to the file, or append these lines yourself after checking them:\n` +
        lines.join('\n'),
      { cause: error },
    );
  }
}
