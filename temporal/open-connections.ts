// Temporal connections the CLI process opened. An open gRPC channel keeps a Node process alive for seconds
// after its command is done (measured: 2.5-3 s after start-backup --wait printed its result), so the CLI
// closes them all when a command returns. A module of its own: the CLI imports it without the SDK.

interface Closable {
  close(): Promise<void>;
}

const open = new Set<Closable>();

/** Remembers a connection for closeOpenConnections. */
export function trackConnection(connection: Closable): void {
  open.add(connection);
}

/** Closes every tracked connection; a failing close is ignored (the process is ending anyway). */
export async function closeOpenConnections(): Promise<void> {
  const closing = [...open].map((connection) => connection.close().catch(() => undefined));
  open.clear();
  await Promise.all(closing);
}
