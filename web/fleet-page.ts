// The fleet page: a summary bar, a filter/sort form (plain GET: works without JavaScript), one row per
// (host, server). Rendered with hono/html, whose tagged template escapes every interpolated value.
import { html } from 'hono/html';
import { formatDuration } from '../domain/duration.js';
import type { Verdict } from '../fleet/verdict.js';
import { describeReplica } from '../fleet/replica-verdict.js';
import { summarize, sortKeys, type ConsoleRow, type FleetQuery } from './fleet-data.js';
import { formatBytes } from '../domain/bytes.js';
import { layout } from './layout.js';
import type { Operator } from './session.js';

const verdicts: Verdict[] = ['OK', 'WARNING', 'CRITICAL'];

export function fleetPage(
  rows: ConsoleRow[],
  shown: ConsoleRow[],
  query: FleetQuery,
  refreshSeconds: number,
  operator?: Operator,
  collectedAt?: Date,
) {
  const counts = summarize(rows);
  // The replica column only when a pair takes its copy by replication (fleet/replica-verdict.ts).
  const replicas = rows.some((row) => row.replica);
  const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
  const body = html`
    <p class="who">
      ${
        operator
          ? html`operator <strong>${operator.user}</strong>
              <form method="post" action="/logout" class="inline"><button type="submit">log out</button></form>`
          : html`read-only · <a href="/login">log in</a> to act`
      }
    </p>
    <section class="summary" aria-label="summary">
      ${verdicts.map(
        (verdict) =>
          html`<a class="count ${verdict}" href="?verdict=${verdict}"
            ><span class="label">${verdict}</span>
            <span class="n" data-verdict="${verdict}">${counts[verdict]}</span></a
          >`,
      )}
      <span class="count paused"><span class="label">paused</span> <span class="n">${counts.paused}</span></span>
      <span class="count UNREACHABLE"
        ><span class="label">unreachable</span> <span class="n">${counts.unreachable}</span></span
      >
      <span class="count">${rows.length} pairs</span>
      ${
        collectedAt
          ? html`<span class="collected" data-collected-at="${collectedAt.toISOString()}"
              >as of
              ${collectedAt
                .toISOString()
                .replace('T', ' ')
                .replace(/\.\d+Z$/, 'Z')}</span
            >`
          : ''
      }
    </section>
    <form method="get" class="filters">
      <label>host <input name="host" value="${query.host ?? ''}" /></label>
      <label>server <input name="server" value="${query.server ?? ''}" /></label>
      <label
        >verdict
        <select name="verdict">
          <option value="">any</option>
          ${verdicts.map((verdict) => html`<option ${verdict === query.verdict ? 'selected' : ''}>${verdict}</option>`)}
        </select></label
      >
      <label
        >sort
        <select name="sort">
          ${sortKeys.map((key) => html`<option ${key === query.sort ? 'selected' : ''}>${key}</option>`)}
        </select></label
      >
      <button type="submit">apply</button>
    </form>
    <table id="fleet">
      <thead>
        <tr>
          <th>host</th>
          <th>server</th>
          <th>last run</th>
          <th>started</th>
          <th>took</th>
          <th>bytes</th>
          <th>last success</th>
          <th>age</th>
          <th>used</th>
          ${replicas ? html`<th>replica</th>` : ''}
          <th>verdict</th>
          ${operator ? html`<th>actions</th>` : ''}
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (row) =>
            html`<tr
              data-host="${row.host}"
              data-server="${row.server}"
              data-verdict="${row.verdict}"
              data-reachable="${row.unreachable === undefined ? 'yes' : 'no'}"
            >
              <td>
                <a class="host" href="/host/${encodeURIComponent(row.host)}?server=${encodeURIComponent(row.server)}"
                  >${row.host}</a
                >
              </td>
              <td>${row.server}</td>
              <td>
                ${
                  row.lastRunUrl
                    ? html`<a class="run" href="${row.lastRunUrl}">${row.lastStatus}</a>`
                    : (row.lastStatus ?? 'never run')
                }
              </td>
              <td>${when(row.lastRunAt)}</td>
              <td>${row.lastRunDurationMs === null ? '-' : formatDuration(row.lastRunDurationMs)}</td>
              <td>${row.lastRunBytes === null ? '-' : formatBytes(row.lastRunBytes)}</td>
              <td>${when(row.lastSuccessAt)}</td>
              <td>${row.lastSuccessAgeMs === null ? '-' : formatDuration(row.lastSuccessAgeMs, { days: true })}</td>
              <td>${row.usedBytes === undefined ? '-' : formatBytes(row.usedBytes)}</td>
              ${replicas ? html`<td class="replica">${row.replica ? describeReplica(row.replica) : '-'}</td>` : ''}
              <td class="verdict ${row.verdict}">
                <strong>${row.verdict}</strong
                >${row.paused !== undefined ? html` <span class="paused">paused</span>` : ''}
                ${row.reasons.length > 0 ? html`<div class="reasons">${row.reasons.join('; ')}</div>` : ''}
                ${
                  row.unreachable !== undefined
                    ? html`<div class="unreachable">server unreachable: ${row.unreachable}</div>`
                    : ''
                }
              </td>
              ${operator ? actionForms(row, operator) : ''}
            </tr>`,
        )}
      </tbody>
    </table>
  `;
  return layout('Fleet', body, refreshSeconds);
}

/** Pause/resume (with a reason) and back up now, each a form carrying the session's CSRF token. */
function actionForms(row: ConsoleRow, operator: Operator) {
  const hidden = html`<input type="hidden" name="host" value="${row.host}" />
    <input type="hidden" name="server" value="${row.server}" />
    <input type="hidden" name="csrf" value="${operator.csrf}" />`;
  return html`<td class="actions">
    <form method="post" action="/actions/${row.paused !== undefined ? 'resume' : 'pause'}" class="inline">
      ${hidden}<input name="reason" placeholder="reason" size="10" />
      <button type="submit">${row.paused !== undefined ? 'resume' : 'pause'}</button>
    </form>
    <form method="post" action="/actions/backup" class="inline">
      ${hidden}<button type="submit">back up now</button>
    </form>
  </td>`;
}
