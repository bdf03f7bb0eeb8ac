// What a backup server's worker tells the web console about its pool: the host datasets there and their size.
// Names and numbers only (a few hundred rows fit well inside a workflow result).

export interface ServerFacts {
  server: string;
  /** One per inventory host backed up on this server whose dataset exists; `used` in bytes (snapshots too). */
  datasets: Array<{ host: string; dataset: string; usedBytes: number }>;
}

/** Workflow id of one console request: unique, and named for what it is in the Temporal UI. */
export function serverFactsWorkflowId(server: string, nonce: string): string {
  return `tidemark-facts-${server}-${nonce}`;
}

/** Workflow id of one console request for a snapshot's directory. */
export function snapshotFilesWorkflowId(server: string, host: string, nonce: string): string {
  return `tidemark-files-${server}-${host}-${nonce}`;
}

/** Workflow id of one host page's request for the host's snapshots on one server. */
export function hostFactsWorkflowId(server: string, host: string, nonce: string): string {
  return `tidemark-host-facts-${server}-${host}-${nonce}`;
}
