// A fresh Debian 12 root to install packages into, as a chroot: mmdebstrap's minbase with systemd (what
// a server has; systemd-analyze verify needs its units), from this machine's own apt sources. The
// tarball is cached under .cache/debian-root/ for a day (its package lists must still match the mirror)
// and per sources file; the .debs apt downloads into it are cached beside it across runs.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../../devenv/paths.js';

const sourcesFile = '/etc/apt/sources.list.d/debian.sources';
const rootCache = join(cacheDir, 'debian-root');
const archiveCache = join(rootCache, 'archives');
const mmdebstrapArgs = [
  '--format=tar',
  '--variant=minbase',
  '--include=systemd',
  '--skip=cleanup/apt/lists',
  'bookworm',
];

/** The cached minbase tarball, made now if today's (for these sources and arguments) is missing. */
async function baseTarball(): Promise<string> {
  const sources = readFileSync(sourcesFile, 'utf8');
  const day = new Date().toISOString().slice(0, 10);
  const key = createHash('sha256')
    .update(JSON.stringify([sources, mmdebstrapArgs]))
    .digest('hex')
    .slice(0, 12);
  const tarball = join(rootCache, `bookworm-minbase-${day}-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(rootCache, { recursive: true });
  for (const old of readdirSync(rootCache).filter((name) => name.endsWith('.tar')))
    rmSync(join(rootCache, old), { force: true });
  await execa('mmdebstrap', [...mmdebstrapArgs, `${tarball}.partial`, '-'], { input: sources });
  renameSync(`${tarball}.partial`, tarball);
  return tarball;
}

/**
 * This machine's nodejs as a .deb for the root: Debian 12 has only Node 18, and NodeSource's archive
 * (where the operator gets Node 20) is not reachable from here. dpkg-repack rebuilds the installed one.
 */
export async function hostNodejsDeb(): Promise<string> {
  const version = (await execa('dpkg-query', ['-W', '-f=${Version}', 'nodejs'])).stdout;
  const dir = join(rootCache, 'nodejs');
  const existing = existsSync(dir) ? readdirSync(dir).find((name) => name.startsWith(`nodejs_${version}_`)) : undefined;
  if (existing) return join(dir, existing);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await execa('dpkg-repack', ['--deb-option=-Zgzip', '--deb-option=-z1', 'nodejs'], { cwd: dir });
  return join(
    dir,
    readdirSync(dir).find((name) => name.endsWith('.deb'))!,
  );
}

export interface DebianRoot {
  path: string;
  /** Runs a command in the chroot with a plain environment; rejects on a non-zero exit. */
  run(command: string[], options?: { reject?: boolean }): Promise<{ exitCode: number; stdout: string; all: string }>;
  /** apt-get install of .deb files from outside the root (copied into its /tmp). */
  aptInstall(debs: string[], extra?: string[]): Promise<void>;
}

/** A new root unpacked into `path` (an empty folder), with no service starting inside it. */
export async function freshDebianRoot(path: string): Promise<DebianRoot> {
  await execa('tar', ['-x', '-f', await baseTarball(), '-C', path]);
  // Packages' maintainer scripts must not start daemons (zfs-fuse) in the chroot.
  writeFileSync(join(path, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  copyFileSync('/etc/resolv.conf', join(path, 'etc/resolv.conf'));
  const archives = join(path, 'var/cache/apt/archives');
  mkdirSync(archiveCache, { recursive: true });
  for (const name of readdirSync(archiveCache)) copyFileSync(join(archiveCache, name), join(archives, name));

  const run: DebianRoot['run'] = async (command, options = {}) => {
    const result = await execa('chroot', [path, ...command], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8' },
      extendEnv: false,
      all: true,
      reject: options.reject ?? true,
    });
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, all: result.all ?? '' };
  };
  return {
    path,
    run,
    async aptInstall(debs, extra = []) {
      const inside = debs.map((deb) => {
        const name = `/tmp/${deb.split('/').pop()}`;
        copyFileSync(deb, join(path, name));
        return name;
      });
      await run([
        'apt-get',
        'install',
        '-y',
        '-q',
        '--no-install-recommends',
        '-o',
        'Dpkg::Options::=--force-unsafe-io',
        ...extra,
        ...inside,
      ]);
      // Keep what apt downloaded for the next run (not the local files, which apt does not copy there).
      for (const name of readdirSync(archives).filter((file) => file.endsWith('.deb')))
        if (!existsSync(join(archiveCache, name))) copyFileSync(join(archives, name), join(archiveCache, name));
    },
  };
}
