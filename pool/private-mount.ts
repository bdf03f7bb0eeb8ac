// The server dataset's mountpoint is the one door to every host's copy: rsync gives each copy the host's
// own directory modes and uids (--numeric-ids), so a local user of the backup server whose uid matches a
// host's could read or edit that host's files. 0700 root on the door keeps every other local user out of
// the copies, their snapshots' clones and restore clones, whatever lies beneath.
import { chmod, chown, stat } from 'node:fs/promises';

/** Makes `dir` 0700 root:root when it is not; returns a warning saying what was changed, or undefined. */
export async function keepRootOnly(dir: string): Promise<string | undefined> {
  const info = await stat(dir);
  const mode = info.mode & 0o7777;
  if (mode === 0o700 && info.uid === 0 && info.gid === 0) return undefined;
  const was = `mode 0${mode.toString(8)}, owner ${info.uid}:${info.gid}`;
  try {
    await chown(dir, 0, 0);
    await chmod(dir, 0o700);
  } catch (error) {
    return `${dir} (the server dataset's mountpoint) is ${was} and could not be made 0700 root (${(error as Error).message}): local users may read the hosts' copies`;
  }
  return `${dir} (the server dataset's mountpoint) was ${was}: set to 0700 root so no local user can read the hosts' copies`;
}
