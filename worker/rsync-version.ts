// The worker refuses to start with an rsync that cannot keep paths away from the host's shell, or whose
// receiver a backed-up host (the sender) can attack.
import { execa } from 'execa';
import { TidemarkError } from '../domain/errors.js';

/** 3.4.0 fixes CVE-2024-12084..12088 and CVE-2024-12747 (a malicious sender can write outside the
 * destination, CVE-2024-12087, or read the receiver's memory); it also has `--secluded-args`
 * (domain/rsync-args.ts) and RSYNC_OLD_ARGS, which an explicit flag overrides. */
export const minimumRsyncVersion = [3, 4, 0] as const;

/** Distribution builds of older versions that carry those fixes (their `dpkg-query` version). Debian 12's
 * security update DSA-5843-1 is 3.2.7-1+deb12u1. */
const patchedBuilds = [/^3\.2\.7-1\+deb12u([1-9]\d*)$/];

/** [major, minor, patch] from the first line of `rsync --version`, e.g. "rsync  version 3.2.7  protocol version 31". */
export function parseRsyncVersion(output: string): [number, number, number] | undefined {
  const match = /^rsync\s+version\s+v?(\d+)\.(\d+)\.(\d+)/m.exec(output);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Why this rsync will not do (naming the version found and the fix), or undefined when it is new enough.
 * `packageVersion`: the installed package's version, for distribution builds with the fixes backported. */
export function rsyncVersionProblem(output: string, packageVersion?: string): string | undefined {
  const minimum = minimumRsyncVersion.join('.');
  const found = parseRsyncVersion(output);
  const fix = `install rsync ${minimum} or newer on this backup server (or Debian 12's security update 3.2.7-1+deb12u1)`;
  if (!found)
    return `cannot tell the rsync version from \`rsync --version\` (it said: ${JSON.stringify(output.split('\n')[0] ?? '')}); ${fix}`;
  for (let index = 0; index < 3; index++) {
    if (found[index]! > minimumRsyncVersion[index]!) return undefined;
    if (found[index]! < minimumRsyncVersion[index]!) {
      if (packageVersion && patchedBuilds.some((build) => build.test(packageVersion))) return undefined;
      return `rsync ${found.join('.')}${packageVersion ? ` (package ${packageVersion})` : ''} is too old: Tidemark needs ${minimum} or newer, a build that fixes CVE-2024-12087 (a backed-up host, the sender, could write outside the copy) and sends paths with --secluded-args; ${fix}`;
    }
  }
  return undefined;
}

/** Runs `rsync --version` (and asks dpkg for the package's version) and throws a TidemarkError when rsync
 * is missing or too old. */
export async function checkRsyncVersion(rsync = 'rsync'): Promise<void> {
  const result = await execa(rsync, ['--version'], { reject: false, stdin: 'ignore', timeout: 10_000 });
  if (result.failed && result.exitCode === undefined) {
    throw new TidemarkError(
      'PREREQUISITE',
      `cannot run \`${rsync} --version\` (${result.code ?? result.shortMessage}); install rsync ${minimumRsyncVersion.join('.')} or newer on this backup server`,
    );
  }
  const installed = await execa('dpkg-query', ['-W', '-f', '${Version}', 'rsync'], {
    reject: false,
    stdin: 'ignore',
    timeout: 10_000,
  });
  const packageVersion = installed.exitCode === 0 ? String(installed.stdout).trim() : undefined;
  const problem = rsyncVersionProblem(String(result.stdout), packageVersion || undefined);
  if (problem) throw new TidemarkError('PREREQUISITE', problem);
}
