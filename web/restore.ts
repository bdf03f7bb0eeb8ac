// A restore started from the console: the same request `tidemark restore` builds (inventory/restore-input.ts,
// with its checks and its confirmation for the live system), the same restoreHost workflow on the control
// queue, audited like every action; then a page that follows the run's phase until it ends.
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { html } from 'hono/html';
import { controlTaskQueue, restoreProgressQueryName } from '../domain/names.js';
import { restoreWorkflowId, type RestoreProgress, type RestoreSummary } from '../domain/restore.js';
import { restoreInput, type RestoreOptions } from '../inventory/restore-input.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import { recordAction } from './audit.js';
import { layout } from './layout.js';

/** The form's fields, as the CLI's options name them. */
export type RestoreForm = Pick<
  RestoreOptions,
  'host' | 'server' | 'snapshot' | 'path' | 'to' | 'toHost' | 'targetDir' | 'yesOverwriteLiveSystem' | 'dryRun'
>;

/** Starts the restore (a bad request throws TidemarkError naming the field, before anything starts). */
export async function startRestore(
  client: Client,
  inventory: Inventory,
  auditLog: string,
  user: string,
  form: RestoreForm,
): Promise<{ workflowId: string; runId: string }> {
  const { inventory: merged } = await loadHostSources(inventory);
  const input = restoreInput(merged, form);
  const target =
    input.to.kind === 'local'
      ? `to ${input.to.dir}`
      : `to host ${input.to.host}${input.to.dir ? `:${input.to.dir}` : ''}`;
  const base = {
    at: new Date().toISOString(),
    user,
    action: input.dryRun ? 'restore (dry run)' : 'restore',
    host: input.host,
    server: input.server,
    reason: `${input.snapshot ?? 'latest'} ${input.paths.length > 0 ? input.paths.join(' ') : '(everything)'} ${target}`,
  };
  const workflowId = restoreWorkflowId(input.host, input.server, new Date(), randomBytes(3).toString('hex'));
  try {
    const handle = await client.workflow.start('restoreHost', {
      taskQueue: controlTaskQueue,
      workflowId,
      args: [input],
    });
    await recordAction(auditLog, { ...base, outcome: 'done', detail: workflowId });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (error) {
    await recordAction(auditLog, { ...base, outcome: 'failed', detail: (error as Error).message.split('\n')[0]! });
    throw error;
  }
}

export type RestoreState =
  | { state: 'running'; progress: RestoreProgress }
  | { state: 'done'; summary: RestoreSummary }
  | { state: 'failed'; message: string };

/** Where a restore run is: its phase while it runs, its summary or failure once it ended. */
export async function restoreState(client: Client, workflowId: string, runId?: string): Promise<RestoreState> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING')
    return { state: 'running', progress: await handle.query<RestoreProgress>(restoreProgressQueryName) };
  try {
    return { state: 'done', summary: (await handle.result()) as RestoreSummary };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError && error.cause ? error.cause : error;
    return { state: 'failed', message: (cause as Error).message.split('\n')[0]! };
  }
}

/** The form on the host page (an operator's only): what to restore, where to, and the live-system confirmation. */
export function restoreFormHtml(host: string, server: string, snapshots: string[], csrf: string) {
  return html`<form method="post" action="/host/${encodeURIComponent(host)}/restore" id="restore" class="restore">
    <input type="hidden" name="server" value="${server}" />
    <input type="hidden" name="csrf" value="${csrf}" />
    <label
      >snapshot
      <select name="snapshot">
        <option value="">latest complete</option>
        ${[...snapshots].reverse().map((name) => html`<option>${name}</option>`)}
      </select></label
    >
    <label>paths (one a line; empty: everything) <textarea name="paths" rows="2" cols="40"></textarea></label>
    <label>to directory on ${server} <input name="to" size="30" /></label>
    <label>or to host <input name="toHost" size="12" /></label>
    <label>into <input name="targetDir" size="20" placeholder="/ (its own place)" /></label>
    <label><input type="checkbox" name="yesOverwriteLiveSystem" value="yes" /> yes, overwrite the live system</label>
    <label><input type="checkbox" name="dryRun" value="yes" /> dry run</label>
    <button type="submit">restore</button>
  </form>`;
}

/** The form's fields as restoreInput takes them (empty fields left out, as the CLI's absent options). */
export function restoreFormFields(host: string, field: (name: string) => string): RestoreForm {
  const paths = field('paths')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return {
    host,
    ...(field('server') ? { server: field('server') } : {}),
    ...(field('snapshot') ? { snapshot: field('snapshot') } : {}),
    ...(paths.length > 0 ? { path: paths } : {}),
    ...(field('to') ? { to: field('to') } : {}),
    ...(field('toHost') ? { toHost: field('toHost') } : {}),
    ...(field('targetDir') ? { targetDir: field('targetDir') } : {}),
    ...(field('yesOverwriteLiveSystem') === 'yes' ? { yesOverwriteLiveSystem: true } : {}),
    ...(field('dryRun') === 'yes' ? { dryRun: true } : {}),
  };
}

/** The run's page: its phase (reloading every 2 s) until it ends, then what it restored or why it failed. */
export function restorePage(workflowId: string, state: RestoreState, runLink: string) {
  const body = html`<p><a href="${runLink}">${workflowId}</a> in the Temporal Web UI</p>
    <div id="restore-state" data-state="${state.state}">
      ${
        state.state === 'running'
          ? html`<p>${state.progress.phase}${state.progress.snapshot ? ` · ${state.progress.snapshot}` : ''}</p>`
          : state.state === 'done'
            ? html`<p class="done">${state.summary.message}</p>
                <p>
                  ${state.summary.filesTransferred} files, ${state.summary.bytesTransferred} bytes from
                  ${state.summary.snapshot} to ${state.summary.target}
                </p>`
            : html`<p class="refused">FAILED: ${state.message}</p>`
      }
    </div>`;
  return layout(`restore ${workflowId}`, body, state.state === 'running' ? 2 : undefined);
}
