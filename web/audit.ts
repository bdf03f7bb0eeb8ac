// Every operator action of the console, one JSON line each (who, what, on what, when, outcome), appended to a
// file `tidemark web-audit` prints.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AuditEntry {
  at: string;
  user: string;
  action: string;
  host: string;
  server: string;
  reason?: string;
  outcome: 'done' | 'failed';
  detail?: string;
}

export const defaultAuditLog = '/var/lib/tidemark/web-audit.log';

export async function recordAction(path: string, entry: AuditEntry): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o640 });
}

export async function readAudit(path: string): Promise<AuditEntry[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
}

export function auditTable(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'no console actions recorded';
  return entries
    .map(
      (entry) =>
        `${entry.at}  ${entry.user}  ${entry.action} ${entry.host}@${entry.server}  ${entry.outcome}` +
        `${entry.reason ? `  reason: ${entry.reason}` : ''}${entry.detail ? `  (${entry.detail})` : ''}`,
    )
    .join('\n');
}
