// The sign of life a worker refreshes for its server, and how a client reads it. The worker rewrites the
// note of a paused, never-firing Schedule (`tidemark-worker-alive:<server>`) every few seconds; the client
// reads it with one describe call, through Temporal alone (no worker needed to answer, unlike a query).
// Temporal's own poller list keeps a dead worker for minutes; this note stops changing when it dies.

/** Not "tidemark:": the inventory sync manages only schedules whose id starts with that. */
export function livenessScheduleId(server: string): string {
  return `tidemark-worker-alive:${server}`;
}

/** How often a worker refreshes its note. */
export const livenessEveryMs = 5_000;
/** A note unchanged for this long (client clock, between two reads) means no live worker. */
export const livenessSilentMs = 15_000;

export interface LivenessNote {
  state: 'alive' | 'stopped';
  /** When the worker wrote it (its clock). */
  at: string;
  /** `<server>@<hostname> pid <pid>` */
  worker: string;
}

export function livenessNote(note: LivenessNote): string {
  return `${note.state} ${note.at} ${note.worker}`;
}

export function parseLivenessNote(text: string | undefined): LivenessNote | undefined {
  const match = /^(alive|stopped) (\S+) (.+)$/.exec(text ?? '');
  if (!match || Number.isNaN(Date.parse(match[2]!))) return undefined;
  return { state: match[1] as LivenessNote['state'], at: match[2]!, worker: match[3]! };
}
