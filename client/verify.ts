// `tidemark verify --host H [--server S] [--sample N] [--json]`: a restore drill. Picks N random regular
// files from the newest complete snapshot and, for those the host still has unchanged (same size, mtime
// and type), compares the SHA-256 of the snapshot's copy with the host's file. Runs on the backup server:
// it reads the pool directly, the host over ssh with the inventory's ssh settings.
import { randomInt } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { pickSnapshot } from '../domain/restore.js';
import { resolveHost, resolveSsh } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import { withSnapshotView } from '../pool/snapshot-reader.js';
import { listSnapshots } from '../pool/zfs.js';
import { backedUpTarget } from './local-target.js';
import { sha256File } from './file-hash.js';
import { hashOnHost, statOnHost, type HostFileState, type HostLogin } from './verify-remote.js';
import { restoreIntoScratch, type ScratchFile } from './verify-scratch.js';
import { adoptAddressKeys } from '../subprocess/known-hosts.js';

export const defaultSample = 200;
const maxSample = 100_000;

export interface VerifiedFile {
  /** The path on the host as UTF-8 (invalid bytes replaced); see pathHex. */
  path: string;
  /** The path's bytes in hex, only when they are not valid UTF-8. */
  pathHex?: string;
}

export interface Mismatch extends VerifiedFile {
  snapshotSha256: string;
  hostSha256: string;
}

export interface Skipped extends VerifiedFile {
  reason: 'gone from the host' | 'changed on the host since the snapshot' | 'unreadable on the host';
}

export interface VerifyReport {
  host: string;
  server: string;
  dataset: string;
  snapshot: string;
  /** Regular files in the snapshot, and how many of them were drawn. */
  regularFiles: number;
  sampled: number;
  verified: number;
  mismatched: number;
  skipped: number;
  mismatches: Mismatch[];
  skippedFiles: Skipped[];
  /** The sample restored into a scratch directory and compared with the snapshot. */
  restoreCheck: {
    identical: number;
    differing: Array<VerifiedFile & { reason: string }>;
    /** Why it was not tried (no room for the sample in the scratch filesystem). */
    notTried?: string;
  };
}

export function sampleSize(value: string | undefined): number {
  if (value === undefined) return defaultSample;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > maxSample)
    throw new TidemarkError(
      'USAGE',
      `--sample: "${value}" is not a number of files from 1 to ${maxSample}; give e.g. --sample ${defaultSample}`,
    );
  return count;
}

export async function verifyHost(
  inventory: Inventory,
  options: { host: string; server?: string; sample?: string; json?: boolean },
): Promise<ExitCode> {
  const wanted = sampleSize(options.sample);
  const target = await backedUpTarget(inventory, options.host, options.server);
  const picked = pickSnapshot(
    (await listSnapshots(target.dataset)).map((snapshot) => snapshot.name),
    {},
  );
  if ('problem' in picked)
    throw new TidemarkError(
      'USAGE',
      picked.problem.replace(/^no complete snapshot to restore from/, 'no complete snapshot to verify'),
    );
  const host = resolveHost(inventory, target.host);
  const ssh = resolveSsh(inventory);
  const login: HostLogin = {
    ssh: { identityFile: ssh.identityFile, knownHostsFile: ssh.knownHostsFile, hostKeyAlias: host.host },
    source: { address: host.address, port: host.port, user: host.user, sudo: host.sudo },
  };
  // Before the first ssh to the host: known_hosts lists it under its name (copied from its address entry).
  await adoptAddressKeys(
    { knownHostsFile: ssh.knownHostsFile, alias: host.host, address: host.address, port: host.port },
    (message) => process.stderr.write(`${message}\n`),
  );

  const report: VerifyReport = {
    host: target.host,
    server: target.server,
    dataset: target.dataset,
    snapshot: picked.name,
    regularFiles: 0,
    sampled: 0,
    verified: 0,
    mismatched: 0,
    skipped: 0,
    mismatches: [],
    skippedFiles: [],
    restoreCheck: { identical: 0, differing: [] },
  };
  try {
    await withSnapshotView(target.dataset, picked.name, async (root) => {
      const { sample, seen } = await sampleRegularFiles(Buffer.from(root), wanted);
      report.regularFiles = seen;
      report.sampled = sample.length;
      await compare(login, sample, report);
      const restored = await restoreIntoScratch(root, sample);
      report.restoreCheck = {
        identical: restored.identical,
        differing: restored.differing.map(({ path, reason }) => ({ ...named(path), reason })),
        ...(restored.notTried ? { notTried: restored.notTried } : {}),
      };
    });
  } catch (error) {
    if (error instanceof TidemarkError) throw error;
    console.error(
      `FAILED: verify of ${target.host} from ${target.dataset}@${picked.name}: ${(error as Error).message}`,
    );
    return ExitCode.backupFailed;
  }
  print(report, options.json ?? false);
  return report.mismatched > 0 || report.restoreCheck.differing.length > 0 ? ExitCode.backupFailed : ExitCode.ok;
}

/** Reservoir sampling over every regular file below `root`: memory stays at `wanted` entries however big
 * the tree is, and each file has the same chance. */
async function sampleRegularFiles(root: Buffer, wanted: number): Promise<{ sample: ScratchFile[]; seen: number }> {
  const sample: ScratchFile[] = [];
  let seen = 0;
  const pending: Buffer[] = [Buffer.alloc(0)];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    const directory = Buffer.concat([root, relative]);
    for (const name of await readdir(directory, { encoding: 'buffer' })) {
      const child = Buffer.concat([relative, Buffer.from('/'), name]);
      const stat = await lstat(Buffer.concat([root, child]));
      if (stat.isDirectory()) pending.push(child);
      if (!stat.isFile()) continue;
      seen++;
      const entry = {
        local: Buffer.concat([root, child]),
        remote: child,
        size: stat.size,
        mtime: Math.floor(stat.mtimeMs / 1000),
      };
      if (sample.length < wanted) sample.push(entry);
      else {
        const slot = randomInt(seen);
        if (slot < wanted) sample[slot] = entry;
      }
    }
  }
  return { sample, seen };
}

async function compare(login: HostLogin, sample: ScratchFile[], report: VerifyReport): Promise<void> {
  const key = (file: ScratchFile) => file.remote.toString('latin1');
  const unchanged = (file: ScratchFile, state: HostFileState | undefined) =>
    state !== undefined && state.regular && state.size === file.size && state.mtime === file.mtime;
  const states = await statOnHost(
    login,
    sample.map((file) => file.remote),
  );
  const candidates: ScratchFile[] = [];
  for (const file of sample) {
    const state = states.get(key(file));
    if (unchanged(file, state)) candidates.push(file);
    else skip(report, file, state === undefined ? 'gone from the host' : 'changed on the host since the snapshot');
  }
  const hostHashes = await hashOnHost(
    login,
    candidates.map((file) => file.remote),
  );
  const differing: Array<{ file: ScratchFile; snapshotSha256: string; hostSha256: string }> = [];
  for (const file of candidates) {
    const hostSha256 = hostHashes.get(key(file));
    if (hostSha256 === undefined) {
      skip(report, file, 'unreadable on the host');
      continue;
    }
    const snapshotSha256 = await sha256File(file.local);
    file.snapshotSha256 = snapshotSha256;
    if (snapshotSha256 === hostSha256) report.verified++;
    else differing.push({ file, snapshotSha256, hostSha256 });
  }
  // A file written between the two calls would look like a bad copy: ask again, and only what is still
  // unchanged counts as a mismatch.
  const again = await statOnHost(
    login,
    differing.map(({ file }) => file.remote),
  );
  for (const { file, snapshotSha256, hostSha256 } of differing) {
    if (!unchanged(file, again.get(key(file)))) {
      skip(report, file, 'changed on the host since the snapshot');
      continue;
    }
    report.mismatched++;
    report.mismatches.push({ ...named(file.remote), snapshotSha256, hostSha256 });
  }
}

function skip(report: VerifyReport, file: ScratchFile, reason: Skipped['reason']): void {
  report.skipped++;
  report.skippedFiles.push({ ...named(file.remote), reason });
}

function named(path: Buffer): VerifiedFile {
  const text = path.toString('utf8');
  return Buffer.from(text).equals(path) ? { path: text } : { path: text, pathHex: path.toString('hex') };
}

function print(report: VerifyReport, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(
    `${report.dataset}@${report.snapshot}: ${report.sampled} of ${report.regularFiles} regular files sampled`,
  );
  for (const mismatch of report.mismatches) {
    const hex = mismatch.pathHex !== undefined ? ` (hex ${mismatch.pathHex})` : '';
    console.log(
      `MISMATCH: ${JSON.stringify(mismatch.path)}${hex}: snapshot sha256 ${mismatch.snapshotSha256}, host ${mismatch.hostSha256}`,
    );
  }
  const reasons = new Map<string, number>();
  for (const skipped of report.skippedFiles) reasons.set(skipped.reason, (reasons.get(skipped.reason) ?? 0) + 1);
  const why = [...reasons].map(([reason, count]) => `${count} ${reason}`).join(', ');
  console.log(
    `verified ${report.verified}, mismatched ${report.mismatched}, skipped ${report.skipped}${why ? ` (${why})` : ''}`,
  );
  const check = report.restoreCheck;
  for (const differing of check.differing)
    console.log(`RESTORE DIFFERS: ${JSON.stringify(differing.path)}: ${differing.reason}`);
  console.log(
    check.notTried
      ? `WARNING: the sample was not restored into a scratch directory: ${check.notTried}`
      : `restored the sample into a scratch directory: ${check.identical} identical to the snapshot, ${check.differing.length} differing`,
  );
  if (report.sampled > 0 && report.verified === 0 && report.mismatched === 0)
    console.log('WARNING: no file could be compared; nothing was proved');
}
