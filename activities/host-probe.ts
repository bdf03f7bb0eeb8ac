// Before the transfer, on the backup server: one ssh call reads the host's veto directory, mount table
// and exclude file; the pure domain code turns them into what the transfer copies and leaves out.
import { randomBytes } from 'node:crypto';
import { activityFailure } from '../domain/failures.js';
import type { BackupPlan } from '../domain/backup.js';
import { printable } from '../domain/printable.js';
import { parseExcludeFile } from '../domain/excludes.js';
import { probeCommand, parseProbeOutput, type HostProbe } from '../domain/host-steps.js';
import { selectHostMounts } from './mount-selection.js';
import { runOverSsh, throwOnSshFailure } from './ssh-run.js';

const probeTimeoutMs = 90_000;
const listedSkips = 20;

export async function probeHost(plan: BackupPlan): Promise<HostProbe> {
  const steps = plan.hostSteps;
  if (!steps)
    throw activityFailure('the plan has no host settings (planBackup is older than this worker)', 'HostProbeFailed');
  const marker = randomBytes(12).toString('hex');
  const result = await runOverSsh(plan, probeCommand(steps.veto.dir, steps.excludeFile, marker, steps.hooks.dir), {
    timeoutMs: probeTimeoutMs,
  });
  throwOnSshFailure(plan, 'reading the host (veto, mounts, exclude file)', result);
  const output = result.exitCode === 0 ? parseProbeOutput(result.stdout, marker) : undefined;
  if (!output) {
    const why = result.timedOut ? `timed out after ${probeTimeoutMs / 1000}s` : `exited ${result.exitCode}`;
    throw activityFailure(
      `reading ${plan.host}'s mount table and exclude file ${why}: ${result.stderr.trim().slice(-500) || '(no error output)'}`,
      'HostProbeTransient',
    );
  }

  let paths = plan.paths;
  let skipped: { target: string; fstype: string; reason: string }[] = [];
  let skippedCount = 0;
  if (steps.selection.mode === 'mounts') {
    const selection = await selectHostMounts(
      output.mounts,
      {
        root: steps.selection.root,
        includeNetworkMounts: steps.selection.includeNetworkMounts,
        extraTypes: steps.selection.extraTypes,
      },
      listedSkips,
    );
    if (selection.paths.length === 0) {
      throw activityFailure(
        `${plan.host} has no local filesystem at or under ${steps.selection.root} in its mount table (skipped: ${selection.skipped
          .slice(0, listedSkips)
          .map((mount) => `${mount.target} ${mount.fstype}`)
          .join(', ')}); set "paths" or "includeFilesystemTypes" in the inventory`,
        'HostProbeFailed',
      );
    }
    paths = selection.paths;
    skipped = selection.skipped;
    skippedCount = selection.skippedCount;
  }

  // A host line that would empty the whole system, or a path the inventory lists, is skipped and reported.
  const parsed = parseExcludeFile(
    output.excludes.text,
    steps.selection.mode === 'mounts' ? [steps.selection.root] : paths,
  );
  const maxPatterns = 10_000;
  if (parsed.patterns.length > maxPatterns) {
    parsed.malformed.push({
      line: 0,
      text: `${parsed.patterns.length} patterns`,
      reason: `only the first ${maxPatterns} are applied`,
    });
    parsed.patterns.length = maxPatterns;
  }
  const malformed = parsed.malformed.map(
    (problem) => `${steps.excludeFile} line ${problem.line}: ${problem.text}: ${problem.reason}`,
  );
  if (output.excludes.unreadable)
    malformed.push(
      `${steps.excludeFile}: exists but is not readable by ${plan.source.user}; its excludes were not applied`,
    );
  return {
    vetoFiles: output.veto.slice(0, 50).map(printable),
    paths,
    skippedMounts: skipped
      .slice(0, listedSkips)
      .map((mount) => printable(`${mount.target} ${mount.fstype} (${mount.reason})`)),
    skippedMountCount: skippedCount,
    hostExcludes: parsed.patterns,
    malformedExcludes: malformed.slice(0, 50).map(printable),
    excludeFilePresent: output.excludes.present,
    hooksAbsent: output.hooksAbsent,
  };
}
