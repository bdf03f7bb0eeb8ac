// Pool facts come from the server that owns the pool: one `serverFacts` workflow per server, in parallel.
// A server whose worker is down fails within seconds (the activity's schedule-to-start timeout); its rows
// are then marked unreachable while every other server's still show. Answers are reused for a short while
// (and shown while a newer one is asked), so a page refreshing every 30 s neither waits nor floods Temporal.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { controlTaskQueue } from '../domain/names.js';
import { serverFactsWorkflowId, type ServerFacts } from '../domain/server-facts.js';

export type ServerAnswer = { facts: ServerFacts } | { unreachable: string };

/** How long a server's answer is reused. */
const keepMs = 20_000;

export class ServerFactsCache {
  private readonly answers = new Map<string, { at: number; answer?: ServerAnswer; pending?: Promise<ServerAnswer> }>();

  constructor(private readonly client: Client) {}

  /** Each server's newest answer. Only a server never asked is waited for; an answer older than keepMs is
   * still given while a fresh one is asked in the background, so a page never waits on a slow server twice. */
  async ask(servers: string[]): Promise<Map<string, ServerAnswer>> {
    const asked = servers.map(async (server) => {
      let kept = this.answers.get(server);
      if (!kept) {
        kept = { at: Date.now() };
        this.answers.set(server, kept);
      }
      if (!kept.pending && (!kept.answer || Date.now() - kept.at > keepMs)) {
        const entry = kept;
        entry.pending = this.askOne(server).then((answer) => {
          Object.assign(entry, { at: Date.now(), answer, pending: undefined });
          return answer;
        });
      }
      return [server, kept.answer ?? (await kept.pending!)] as const;
    });
    return new Map(await Promise.all(asked));
  }

  private async askOne(server: string): Promise<ServerAnswer> {
    try {
      const facts = await this.client.workflow.execute('serverFacts', {
        taskQueue: controlTaskQueue,
        workflowId: serverFactsWorkflowId(server, randomUUID()),
        args: [{ server }],
        // No worker at all (not even on the control queue): give up rather than wait.
        workflowExecutionTimeout: '15s',
      });
      return { facts: facts as ServerFacts };
    } catch (error) {
      return { unreachable: noAnswer(error) };
    }
  }
}

/** Why a request to a server's worker got no answer, from the innermost cause of its workflow's failure. */
export function noAnswer(error: unknown): string {
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return `no answer from its worker (${reason.split('\n')[0]})`;
}
