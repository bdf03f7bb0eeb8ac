// Which targets a run on a server notifies: the top-level `notify:` list, then `servers.<server>.notify`.
import type { NotifyTargetRef } from '../domain/notify.js';
import { hostEntry, serverEntry } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import type { NotifyTarget, NotifyTargetType } from '../inventory/notify-schema.js';

export interface ResolvedTarget {
  /** Where it sits in the inventory, e.g. "notify.0" or "servers.b1.notify.0". */
  id: string;
  target: NotifyTarget;
}

/** Default attempts of one target's notify activity. */
export const defaultNotifyAttempts = 5;

/** `host`: also the host's own `notify` (or its group's, merged into the host entry by inventory/groups.ts). */
export function resolveNotifyTargets(inventory: Inventory, server: string, host?: string): ResolvedTarget[] {
  const global = (inventory.notify ?? []).map((target, index) => ({ id: `notify.${index}`, target }));
  const own = (serverEntry(inventory, server)?.notify ?? []).map((target, index) => ({
    id: `servers.${server}.notify.${index}`,
    target,
  }));
  const entry = host === undefined ? undefined : hostEntry(inventory, host);
  const ofHost = (entry?.notify ?? []).map((target, index) => ({
    id: `hosts.${host!.toLowerCase()}.notify.${index}`,
    target,
  }));
  return [...global, ...own, ...ofHost];
}

/** What the workflow is told about a target: its id, type and retry budget, nothing else. */
export function targetRef({ id, target }: ResolvedTarget): NotifyTargetRef<NotifyTargetType> {
  return { id, type: target.type, attempts: target.attempts ?? defaultNotifyAttempts };
}

/** Replaces {host} and {server} in a name or URL (URL-encoded in URLs). */
export function fillTemplate(text: string, values: { host: string; server: string }, encode = false): string {
  return text.replace(/\{(host|server)\}/g, (_, key: 'host' | 'server') =>
    encode ? encodeURIComponent(values[key]) : values[key],
  );
}

/** A failure retrying will not fix (wrong password, unknown Icinga service, mail address refused). */
export class PermanentNotifyError extends Error {
  override name = 'PermanentNotifyError';
}
