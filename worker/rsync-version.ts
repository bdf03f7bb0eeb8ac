// The worker refuses to start with an rsync that cannot keep paths away from the host's shell.
import { execa } from 'execa';
import { TidemarkError } from '../domain/errors.js';

/** `--secluded-args` (domain/rsync-args.ts) has that name since 3.2.6 (before: --protect-args), and
 * RSYNC_OLD_ARGS, which an explicit flag overrides, exists since 3.2.4. */
export const minimumRsyncVersion = [3, 2, 6] as const;

/** [major, minor, patch] from the first line of `rsync --version`, e.g. "rsync  version 3.2.7  protocol version 31". */
export function parseRsyncVersion(output: string): [number, number, number] | undefined {
  const match = /^rsync\s+version\s+v?(\d+)\.(\d+)\.(\d+)/m.exec(output);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Why this rsync will not do (naming the version found and the fix), or undefined when it is new enough. */
export function rsyncVersionProblem(output: string): string | undefined {
  const minimum = minimumRsyncVersion.join('.');
  const found = parseRsyncVersion(output);
  const fix = `install rsync ${minimum} or newer on this backup server (Debian 12 and Ubuntu 24.04 ship 3.2.7)`;
  if (!found)
    return `cannot tell the rsync version from \`rsync --version\` (it said: ${JSON.stringify(output.split('\n')[0] ?? '')}); ${fix}`;
  for (let index = 0; index < 3; index++) {
    if (found[index]! > minimumRsyncVersion[index]!) return undefined;
    if (found[index]! < minimumRsyncVersion[index]!) {
      return `rsync ${found.join('.')} is too old: Tidemark needs ${minimum} or newer, to send paths with --secluded-args rather than through the host's shell; ${fix}`;
    }
  }
  return undefined;
}

/** Runs `rsync --version` and throws a TidemarkError when rsync is missing or too old. */
export async function checkRsyncVersion(rsync = 'rsync'): Promise<void> {
  const result = await execa(rsync, ['--version'], { reject: false, stdin: 'ignore', timeout: 10_000 });
  if (result.failed && result.exitCode === undefined) {
    throw new TidemarkError(
      'PREREQUISITE',
      `cannot run \`${rsync} --version\` (${result.code ?? result.shortMessage}); install rsync ${minimumRsyncVersion.join('.')} or newer on this backup server`,
    );
  }
  const problem = rsyncVersionProblem(String(result.stdout));
  if (problem) throw new TidemarkError('PREREQUISITE', problem);
}
