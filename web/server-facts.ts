// Pool facts come from the server that owns the pool: one `serverFacts` workflow per server, in parallel.
// A server whose worker is down fails within seconds (the activity's schedule-to-start timeout); its rows
// are then marked unreachable while every other server's still show. Answers are kept a short while, so a
// page refreshing every 30 s does not start two workflows per server each time.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { controlTaskQueue } from '../domain/names.js';
import { serverFactsWorkflowId, type ServerFacts } from '../domain/server-facts.js';

export type ServerAnswer = { facts: ServerFacts } | { unreachable: string };

/** How long a server's answer is reused. */
const keepMs = 20_000;

export class ServerFactsCache {
  private readonly answers = new Map<string, { at: number; answer: Promise<ServerAnswer> }>();

  constructor(private readonly client: Client) {}

  async ask(servers: string[]): Promise<Map<string, ServerAnswer>> {
    const now = Date.now();
    const asked = servers.map(async (server) => {
      let kept = this.answers.get(server);
      if (!kept || now - kept.at > keepMs) {
        kept = { at: now, answer: this.askOne(server) };
        this.answers.set(server, kept);
      }
      return [server, await kept.answer] as const;
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
        workflowExecutionTimeout: '20s',
      });
      return { facts: facts as ServerFacts };
    } catch (error) {
      let cause: unknown = error;
      while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      return { unreachable: `no answer from its worker (${reason.split('\n')[0]})` };
    }
  }
}
