// The operator actions of the console: pause or resume a pair's schedule with a reason, or start its backup
// now through the schedule (which skips it when one is already running). Every attempt is audited.
import type { Client } from '@temporalio/client';
import { TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import { hostServerPairs } from '../fleet/pairs.js';
import { backupScheduleId } from '../schedule/desired.js';
import { recordAction, type AuditEntry } from './audit.js';

export const actionNames = ['pause', 'resume', 'backup'] as const;
export type ActionName = (typeof actionNames)[number];

export interface ActionRequest {
  action: ActionName;
  host: string;
  server: string;
  reason?: string;
  user: string;
}

export async function runAction(
  client: Client,
  inventory: Inventory,
  auditLog: string,
  request: ActionRequest,
): Promise<AuditEntry> {
  const { inventory: merged } = await loadHostSources(inventory);
  if (!hostServerPairs(merged).some((pair) => pair.host === request.host && pair.server === request.server))
    throw new TidemarkError('USAGE', `host "${request.host}" is not backed up on server "${request.server}"`);
  const base = {
    at: new Date().toISOString(),
    user: request.user,
    action: request.action,
    host: request.host,
    server: request.server,
    ...(request.reason ? { reason: request.reason } : {}),
  };
  let entry: AuditEntry;
  try {
    const handle = client.schedule.getHandle(backupScheduleId(request.host, request.server));
    // The same note as `tidemark pause --reason`, saying it came from the console.
    const note = `${request.action === 'resume' ? 'resumed' : 'paused'} by ${request.user} (web)${request.reason ? `: ${request.reason}` : ''}`;
    if (request.action === 'pause') await handle.pause(note);
    else if (request.action === 'resume') await handle.unpause(note);
    else await handle.trigger();
    entry = { ...base, outcome: 'done' };
  } catch (error) {
    entry = { ...base, outcome: 'failed', detail: (error as Error).message.split('\n')[0]! };
  }
  await recordAction(auditLog, entry);
  return entry;
}
