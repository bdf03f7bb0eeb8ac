// Children that lead their own process group (rsync with its ssh, ssh with the remote watcher): one
// place for how a cancelled or timed-out one is stopped.

const killGraceMs = 3_000;

/** SIGTERM to the whole group now, SIGKILL after a short grace: rsync gets to close its files first. */
export function stopGroup(pid: number | undefined): void {
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => signalGroup(pid, 'SIGKILL'), killGraceMs).unref();
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
