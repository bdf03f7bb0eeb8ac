// The host page: the host's snapshots on one server as `tidemark snapshots` reports them (kind, size, the
// rule keeping each; held, suspect and partial ones marked), charts of size per snapshot and of duration and
// bytes per run, the recent runs with links into the Temporal Web UI, and the effective settings.
import { html } from 'hono/html';
import { formatBytes } from '../domain/bytes.js';
import { formatDuration } from '../domain/duration.js';
import type { SnapshotRow } from '../pool/snapshot-report.js';
import type { HostPageData } from './host-data.js';
import { browseHref } from './browse-page.js';
import { layout } from './layout.js';
import { restoreFormHtml } from './restore.js';
import type { Operator } from './session.js';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** What a snapshot is marked as: held (zfs hold or --keep), suspect, partial; none for a plain one. */
export function snapshotMarks(row: SnapshotRow): string[] {
  const marks: string[] = [];
  if (row.kind === 'held' || (row.holds ?? 0) > 0 || row.keepReason !== null) marks.push('held');
  if (row.kind === 'suspect' || row.kind === 'partial') marks.push(row.kind);
  return marks;
}

export function hostPage(data: HostPageData, refreshSeconds: number, operator?: Operator) {
  const { host, server } = data;
  const report = 'report' in data.snapshots ? data.snapshots.report : undefined;
  const oldestRunFirst = [...data.runs].reverse();
  const sizeChart = report && {
    title: 'size per snapshot (bytes only it holds)',
    x: report.snapshots.map((row) => Date.parse(row.takenAt) / 1000),
    series: [{ label: 'size', unit: 'bytes', values: report.snapshots.map((row) => row.used) }],
  };
  const runChart = {
    title: 'duration and bytes per run',
    x: oldestRunFirst.map((run) => new Date(run.startedAt).getTime() / 1000),
    series: [
      {
        label: 'duration',
        unit: 'seconds',
        values: oldestRunFirst.map((run) =>
          run.closedAt ? (new Date(run.closedAt).getTime() - new Date(run.startedAt).getTime()) / 1000 : null,
        ),
      },
      { label: 'bytes', unit: 'bytes', values: oldestRunFirst.map((run) => run.bytes ?? null) },
    ],
  };
  const body = html`
    <p class="servers">
      ${host} on
      ${data.servers.map((name) =>
        name === server
          ? html`<strong>${name}</strong> `
          : html`<a href="/host/${encodeURIComponent(host)}?server=${encodeURIComponent(name)}">${name}</a> `,
      )}
    </p>
    <h2>Snapshots</h2>
    <p>
      <a id="browse" href="${browseHref(host, server, undefined, '/')}">browse the newest complete snapshot</a> ·
      <a id="find" href="/host/${encodeURIComponent(host)}/find?server=${encodeURIComponent(server)}">find files</a>
    </p>
    ${
      report
        ? html`<p class="dataset">${report.dataset}${report.exists ? '' : ': no backup yet (no dataset)'}</p>
            <div class="chart" id="size-chart" data-chart="${JSON.stringify(sizeChart)}"></div>
            <table id="snapshots">
              <thead>
                <tr>
                  <th>snapshot</th>
                  <th>taken (UTC)</th>
                  <th>size</th>
                  <th>kind</th>
                  <th>kept by</th>
                </tr>
              </thead>
              <tbody>
                ${report.snapshots.map((row) => {
                  const marks = snapshotMarks(row);
                  return html`<tr data-name="${row.name}" data-kind="${row.kind}" data-marks="${marks.join(' ')}">
                    <td>
                      <a class="browse" href="${browseHref(host, server, row.name, '/')}">${row.name}</a>
                      ${marks.map((mark) => html`<span class="mark ${mark}">${mark}</span> `)}
                    </td>
                    <td>${when(row.takenAt)}</td>
                    <td>${formatBytes(row.used)}</td>
                    <td>${row.adoptedAs ? `${row.kind} (${row.adoptedAs})` : row.kind}</td>
                    <td>
                      ${row.keep ? row.reasons.join(', ') : '— (pruned by the next prune)'}${
                        row.keepReason !== null ? ` ("${row.keepReason}")` : ''
                      }
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table>`
        : html`<p class="unreachable" id="snapshots-unreachable">
            server unreachable: ${'unreachable' in data.snapshots ? data.snapshots.unreachable : ''}
          </p>`
    }
    ${
      operator && report
        ? html`<h2>Restore</h2>
            ${restoreFormHtml(
              host,
              server,
              report.snapshots.map((row) => row.name),
              operator.csrf,
            )}`
        : ''
    }
    <h2>Recent runs</h2>
    <div class="chart" id="run-chart" data-chart="${JSON.stringify(runChart)}"></div>
    <table id="runs">
      <thead>
        <tr>
          <th>status</th>
          <th>started</th>
          <th>took</th>
          <th>bytes</th>
          <th>reason</th>
        </tr>
      </thead>
      <tbody>
        ${data.runs.map(
          (run) =>
            html`<tr data-status="${run.status}">
              <td>${run.url ? html`<a class="run" href="${run.url}">${run.status}</a>` : run.status}</td>
              <td>${when(new Date(run.startedAt).toISOString())}</td>
              <td>
                ${
                  run.closedAt
                    ? formatDuration(new Date(run.closedAt).getTime() - new Date(run.startedAt).getTime())
                    : 'running'
                }
              </td>
              <td>${run.bytes === undefined ? '-' : formatBytes(run.bytes)}</td>
              <td class="reasons">${run.reason ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Effective settings</h2>
    <p class="reasons">where each comes from: host &gt; group &gt; defaults &gt; built-in default</p>
    <table id="settings">
      <tbody>
        ${data.settings.map(
          ({ setting, value, origin }) =>
            html`<tr data-setting="${setting}">
              <td>${setting}</td>
              <td><code>${value === undefined ? '(unset)' : JSON.stringify(value)}</code></td>
              <td>${Array.isArray(origin) ? origin.join(' + ') : origin}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <script src="/assets/uplot.js"></script>
    <script src="/assets/host-charts.js"></script>
  `;
  // An operator's page holds a form: it does not reload under their typing.
  return layout(`${host} on ${server}`, body, operator ? undefined : refreshSeconds, ['/assets/uplot.css']);
}
