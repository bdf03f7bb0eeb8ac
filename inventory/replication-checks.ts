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

interface HostReplicationFields {
  servers?: string[] | undefined;
  replicateFrom?: string | false | undefined;
}

/** Checks of `replicateFrom` on groups and hosts (after the groups are merged in): the server exists, backs
 * the host up, and every other server of the host can be sent to. A group's unknown server is its own
 * problem once; a host's problems sit at its own field, so an isolating load leaves out that host only. */
export function hostReplicationChecks(
  inventory: {
    servers: Record<string, ReplicationFields>;
    defaults?: { servers?: string[] | undefined } | undefined;
    groups?: Record<string, HostReplicationFields> | undefined;
    hosts: Record<string, HostReplicationFields>;
    hostOrigins?: Record<string, { group?: string; own: Record<string, unknown> }> | undefined;
  },
  issue: (path: PropertyKey[], message: string) => void,
): void {
  const names = Object.keys(inventory.servers);
  const unknown = (from: string) =>
    `unknown server "${from}"; name the server that pulls the host (known: ${names.join(', ')}), or false for none`;
  for (const [group, settings] of Object.entries(inventory.groups ?? {})) {
    const from = settings.replicateFrom;
    if (typeof from === 'string' && !Object.hasOwn(inventory.servers, from))
      issue(['groups', group, 'replicateFrom'], unknown(from));
  }
  for (const [host, settings] of Object.entries(inventory.hosts)) {
    const from = settings.replicateFrom;
    if (typeof from !== 'string') continue;
    const origin = inventory.hostOrigins?.[host];
    const group = origin?.group !== undefined && origin.own.replicateFrom === undefined ? origin.group : undefined;
    const path = ['hosts', host, 'replicateFrom'];
    const set = group === undefined ? '' : ` (set by group ${group})`;
    if (!Object.hasOwn(inventory.servers, from)) {
      if (group === undefined) issue(path, unknown(from));
      continue;
    }
    const servers = settings.servers ?? inventory.defaults?.servers ?? names;
    if (!servers.includes(from)) {
      issue(
        path,
        `server ${from}${set} does not back this host up (its servers: ${servers.join(', ')}); add it to the host's servers or name one of them`,
      );
      continue;
    }
    for (const target of servers)
      if (target !== from && inventory.servers[target]?.receive === undefined)
        issue(
          path,
          `server ${target} would take this host's copy from ${from}${set} by replication, which sends to it over ssh: give it servers.${target}.receive: { address: ..., port: 22 }, or list only servers that have one`,
        );
  }
}
