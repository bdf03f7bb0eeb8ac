// The custom search attributes every backup run carries, so the Temporal UI, `temporal workflow list`
// and `tidemark status` can find runs by host, server and outcome. Shared by workflows and the CLI.
import { defineSearchAttributeKey } from '@temporalio/common';
import type { BackupStatus } from './backup.js';

export const hostAttribute = defineSearchAttributeKey('TidemarkHost', 'KEYWORD');
export const serverAttribute = defineSearchAttributeKey('TidemarkServer', 'KEYWORD');
export const statusAttribute = defineSearchAttributeKey('TidemarkStatus', 'KEYWORD');
export const bytesAttribute = defineSearchAttributeKey('TidemarkBytes', 'INT');

/** On each Tidemark schedule: the hash of what sync last wrote, so one paged list tells sync which schedules
 * changed without describing each. Optional: without it sync describes every schedule (slower, same result). */
export const specHashAttribute = defineSearchAttributeKey('TidemarkSpecHash', 'KEYWORD');

/** What every backup run upserts: a worker refuses to poll without them. */
const runSearchAttributes = [hostAttribute, serverAttribute, statusAttribute, bytesAttribute] as const;

/** What `tidemark temporal setup` registers (name → Temporal's indexed value type). */
export const tidemarkSearchAttributes = [...runSearchAttributes, specHashAttribute] as const;

/** Run attributes missing from a namespace's custom attributes (a worker checks before it polls: a
 * workflow whose upsert names an unknown attribute fails its task and stalls). */
export function missingSearchAttributes(existing: Readonly<Record<string, unknown>>): string[] {
  return runSearchAttributes
    .filter((key) => existing[key.name] === undefined || existing[key.name] === null)
    .map((key) => key.name);
}

/** RUNNING until the run ends; SKIPPED: a scheduled run found a backup of the pair already running. */
export type RunStatus = BackupStatus | 'RUNNING' | 'SKIPPED';
export const runStatuses: readonly RunStatus[] = ['RUNNING', 'SUCCESS', 'WARNING', 'FAILED', 'CANCELLED', 'SKIPPED'];

/** The attributes a backup of (host, server) starts with. */
export function startAttributes(host: string, server: string) {
  return [
    { key: hostAttribute, value: host },
    { key: serverAttribute, value: server },
    { key: statusAttribute, value: 'RUNNING' satisfies RunStatus },
  ];
}

/** One line for the UI's run list: "vpn → backup-1". */
export function runSummary(host: string, server: string): string {
  return `${host} → ${server}`;
}
