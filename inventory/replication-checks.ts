// Checks of the servers' replication fields (docs/how-to/off-site-copies.md): a target names another
// defined server, that source pulls its hosts itself (no chains, so no cycles), and the target can be reached.

interface ReplicationFields {
  replicateFrom?: string | undefined;
  receive?: unknown;
}

export function replicationChecks(
  servers: Record<string, ReplicationFields>,
  issue: (path: PropertyKey[], message: string) => void,
): void {
  const names = Object.keys(servers);
  for (const [name, server] of Object.entries(servers)) {
    const from = server.replicateFrom;
    if (from === undefined) continue;
    const path = ['servers', name, 'replicateFrom'];
    if (from === name) issue(path, 'a server cannot replicate from itself; name another backup server');
    else if (!Object.hasOwn(servers, from))
      issue(path, `unknown server "${from}"; define it under "servers" (known: ${names.join(', ')})`);
    else if (servers[from]!.replicateFrom !== undefined)
      issue(
        path,
        `server ${from} itself replicates from ${servers[from]!.replicateFrom}; replicate from a server that pulls its hosts (no chains)`,
      );
    if (server.receive === undefined)
      issue(
        ['servers', name, 'receive'],
        `server ${name} replicates from ${from}, which sends to it over ssh: give its sshd as receive: { address: ..., port: 22 }`,
      );
  }
}
