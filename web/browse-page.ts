// A snapshot's directory on the console, as `tidemark files` lists it: a snapshot picker (plain GET form),
// the path as links up to the root, and the entries, directories linking one level down. Symlinks show
// their target and are never followed (the server's worker looks paths up beneath the snapshot's root).
import { html } from 'hono/html';
import { formatBytes } from '../domain/bytes.js';
import type { BrowseData, FindData, HistoryData } from './host-data.js';
import { layout } from './layout.js';

export function browseHref(host: string, server: string, snapshot: string | undefined, path: string): string {
  const query = new URLSearchParams({ server, ...(snapshot ? { snapshot } : {}), path });
  return `/host/${encodeURIComponent(host)}/files?${query.toString()}`;
}

export function downloadHref(host: string, server: string, snapshot: string, path: string): string {
  const query = new URLSearchParams({ server, snapshot, path });
  return `/host/${encodeURIComponent(host)}/download?${query.toString()}`;
}

export function browsePage(data: BrowseData) {
  const { host, server, path, listing } = data;
  const files = 'files' in listing ? listing.files : undefined;
  const parts = path.split('/').filter(Boolean);
  const crumbs = [
    html`<a href="${browseHref(host, server, files?.snapshot, '/')}">/</a>`,
    ...parts.map(
      (part, index) =>
        html`<a href="${browseHref(host, server, files?.snapshot, `/${parts.slice(0, index + 1).join('/')}`)}"
            >${part}</a
          >/`,
    ),
  ];
  const body = html`
    <p>
      <a href="/host/${encodeURIComponent(host)}?server=${encodeURIComponent(server)}">${host} on ${server}</a>
    </p>
    ${
      files
        ? html`<form method="get" class="filters">
            <input type="hidden" name="server" value="${server}" />
            <input type="hidden" name="path" value="${path}" />
            <label
              >snapshot
              <select name="snapshot">
                ${[...files.snapshots]
                  .reverse()
                  .map((name) => html`<option ${name === files.snapshot ? 'selected' : ''}>${name}</option>`)}
              </select></label
            >
            <button type="submit">show</button>
          </form>`
        : ''
    }
    <p class="path" id="path">${crumbs}</p>
    ${
      'unreachable' in listing
        ? html`<p class="unreachable" id="files-unreachable">server unreachable: ${listing.unreachable}</p>`
        : 'refused' in listing
          ? html`<p class="refused" id="files-refused">${listing.refused}</p>`
          : !files?.entries
            ? html`<p class="refused" id="files-refused">${path} is not in snapshot ${files?.snapshot}</p>`
            : html`<table id="files">
                  <thead>
                    <tr>
                      <th>name</th>
                      <th>type</th>
                      <th>mode</th>
                      <th>owner</th>
                      <th>size</th>
                      <th>mtime</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${files.entries.map((entry) => {
                      const below = `${path.replace(/\/$/, '')}/${entry.name}`;
                      // Names that are not UTF-8 cannot go into a link as the host wrote them: shown, not linked.
                      const plain = entry.nameHex === undefined;
                      const name =
                        entry.type === 'dir' && plain
                          ? html`<a class="dir" href="${browseHref(host, server, files.snapshot, below)}"
                              >${entry.name}/</a
                            >`
                          : entry.type === 'file' && plain
                            ? html`<a class="file" href="${downloadHref(host, server, files.snapshot, below)}"
                                >${entry.name}</a
                              >`
                            : entry.name;
                      return html`<tr data-name="${entry.name}" data-type="${entry.type}">
                        <td>
                          ${name}${entry.target !== undefined ? ` -> ${entry.target}` : ''}
                          ${plain ? html` <a class="history" href="${historyHref(host, server, below)}">history</a>` : ''}
                        </td>
                        <td>${entry.type}</td>
                        <td>${entry.mode}</td>
                        <td>${entry.uid}:${entry.gid}</td>
                        <td>${entry.type === 'file' ? formatBytes(entry.size) : '-'}</td>
                        <td>${entry.mtime.replace(/\.\d{3}Z$/, 'Z')}</td>
                      </tr>`;
                    })}
                  </tbody>
                </table>
                ${files.truncated ? html`<p class="reasons">only the first ${files.entries.length} entries by name</p>` : ''}`
    }
  `;
  return layout(`${host} on ${server}: ${files?.snapshot ?? 'files'}`, body);
}

export function historyHref(host: string, server: string, path: string): string {
  const query = new URLSearchParams({ server, path });
  return `/host/${encodeURIComponent(host)}/history?${query.toString()}`;
}

/** A path's history across the host's snapshots, as `tidemark history` prints it; each links to the path there. */
export function historyPage(data: HistoryData) {
  const { host, server, path, history } = data;
  const body = html`
    <p>
      <a href="/host/${encodeURIComponent(host)}?server=${encodeURIComponent(server)}">${host} on ${server}</a>
      · ${path}
    </p>
    ${
      'unreachable' in history
        ? html`<p class="unreachable" id="history-unreachable">server unreachable: ${history.unreachable}</p>`
        : 'refused' in history
          ? html`<p class="refused" id="history-refused">${history.refused}</p>`
          : html`<table id="history">
                <thead>
                  <tr>
                    <th></th>
                    <th>snapshot</th>
                    <th>kind</th>
                    <th>type</th>
                    <th>size</th>
                    <th>mtime</th>
                    <th>mode</th>
                  </tr>
                </thead>
                <tbody>
                  ${history.report.snapshots.map(
                    (entry) =>
                      html`<tr data-snapshot="${entry.snapshot}" data-changed="${entry.changed ? 'yes' : 'no'}">
                        <td>${entry.changed ? '*' : ''}</td>
                        <td><a href="${browseHref(host, server, entry.snapshot, path)}">${entry.snapshot}</a></td>
                        <td>${entry.label}</td>
                        <td>${entry.type}</td>
                        <td>${formatBytes(entry.size)}</td>
                        <td>${entry.mtime.replace(/\.\d{3}Z$/, 'Z')}</td>
                        <td>${entry.mode}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              <p class="reasons">* first seen, or size/mtime changed since the previous snapshot holding it</p>
              ${
                history.report.absentFrom.length > 0
                  ? html`<p class="reasons">absent from: ${history.report.absentFrom.join(', ')}</p>`
                  : ''
              }`
    }
  `;
  return layout(`history of ${path}`, body);
}

/** Find by name across the host's snapshots, as `tidemark find` does: a GET form and the matches per snapshot. */
export function findPage(data: FindData) {
  const { host, server, pattern, ignoreCase, found } = data;
  const body = html`
    <p>
      <a href="/host/${encodeURIComponent(host)}?server=${encodeURIComponent(server)}">${host} on ${server}</a>
    </p>
    <form method="get" class="filters" id="find">
      <input type="hidden" name="server" value="${server}" />
      <label>pattern <input name="pattern" value="${pattern}" placeholder="*.conf or /etc/*/nginx.conf" /></label>
      <label><input type="checkbox" name="ignoreCase" value="yes" ${ignoreCase ? 'checked' : ''} /> ignore case</label>
      <button type="submit">find</button>
    </form>
    ${
      found === undefined
        ? ''
        : 'unreachable' in found
          ? html`<p class="unreachable" id="find-unreachable">server unreachable: ${found.unreachable}</p>`
          : 'refused' in found
            ? html`<p class="refused" id="find-refused">${found.refused}</p>`
            : found.report.snapshots.length === 0
              ? html`<p id="find-none">no match in any of its ${found.report.searched} snapshots</p>`
              : html`<table id="found">
                  <thead>
                    <tr>
                      <th>snapshot</th>
                      <th>path</th>
                      <th>type</th>
                      <th>size</th>
                      <th>mtime</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${found.report.snapshots.flatMap((entry) =>
                      entry.matches.map(
                        (match) =>
                          html`<tr data-snapshot="${entry.snapshot}" data-path="${match.path}">
                            <td>${entry.snapshot}</td>
                            <td>
                              ${
                                match.pathHex === undefined
                                  ? html`<a href="${browseHref(host, server, entry.snapshot, match.path)}"
                                      >${match.path}</a
                                    >`
                                  : match.path
                              }
                            </td>
                            <td>${match.type}</td>
                            <td>${match.type === 'file' ? formatBytes(match.size) : '-'}</td>
                            <td>${match.mtime.replace(/\.\d{3}Z$/, 'Z')}</td>
                          </tr>`,
                      ),
                    )}
                  </tbody>
                </table>`
    }
  `;
  return layout(`find in ${host} on ${server}`, body);
}
