// The web console in a real browser (Debian's Chromium through playwright-core), after real backups on two
// servers: a success, a hook failure, a paused host, a stale one, and pairs never run. Every row must carry
// the verdict `tidemark status --json` gives the same pair; the page leaves docs/web-fleet.png behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '../devenv/process.js';
import { zfs } from '../pool/zfs.js';
import { backupScheduleId } from '../schedule/desired.js';
import { freePort } from '../worker/free-port.js';
import { execa } from 'execa';
import { parse } from 'yaml';
import { addSecondServer, editInventory, startServerWorker } from './helpers/inventory-edit.js';
import { cliPath, createRig, testServices, type Rig } from './helpers/rig.js';

const chromiumPath = '/usr/bin/chromium';
const fleetScreenshot = fileURLToPath(new URL('../../docs/web-fleet.png', import.meta.url));
const hostScreenshot = fileURLToPath(new URL('../../docs/web-host.png', import.meta.url));

let rig: Rig;
let otherServer: string;
let web: ChildProcess | undefined;
let webUrl: string;
let browser: Browser | undefined;
const workers: ChildProcess[] = [];
const failedHost = 'failed-host';
const pausedHost = 'paused-host';
const staleHost = 'stale-host';
const operatorName = 'alice';
const password = 'correct horse battery';
let passwordFile: string;
let auditLog: string;

before(async () => {
  assert.ok(
    existsSync(chromiumPath),
    `${chromiumPath} is missing: run scripts/setup.sh --tests (it installs chromium)`,
  );
  rig = await createRig('web');
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'file'), 'x'.repeat(4096));
  mkdirSync(join(rig.source, 'etc'));
  writeFileSync(join(rig.source, 'etc', 'app.conf'), 'a=1\n');
  // Bigger than the 1 MiB a worker sends at once: the download comes in three pieces.
  writeFileSync(join(rig.source, 'etc', 'blob.bin'), randomBytes(2 * 1024 * 1024 + 12345));
  // A host-made symlink to the backup server's own /etc: the browser lists it and never follows it.
  symlinkSync('/etc', join(rig.source, 'escape'));
  const hooksDir = join(rig.dir, 'backup-scripts');
  mkdirSync(hooksDir);
  writeFileSync(join(hooksDir, '20-dump-db'), '#!/bin/bash\necho "pg_dump: connection refused" >&2\nexit 3\n');
  chmodSync(join(hooksDir, '20-dump-db'), 0o755);
  otherServer = `${rig.server}-b`;
  editInventory(rig, (inventory) => {
    // No sync schedule of this file's making, and backup schedules that never fire during the test.
    inventory.sync = { enabled: false };
    inventory.defaults = { ...inventory.defaults, schedule: { cron: '0 0 1 1 *' } };
    const demo = inventory.hosts[rig.hostName];
    inventory.hosts[failedHost] = { ...demo, servers: [rig.server], hooks: { dir: hooksDir, timeout: '20s' } };
    inventory.hosts[pausedHost] = { ...demo, servers: [rig.server] };
  });
  addSecondServer(rig, otherServer);
  // Stale: backed up first and judged against a 1 min interval with staleAfter 1, so by the time the page is
  // read its success is past 1 × the interval (WARNING) and far from 1000 × (CRITICAL). It is left out of the
  // sync, so no schedule backs it up again.
  const staleEntry = {
    ...readInventory().hosts[rig.hostName],
    servers: [rig.server],
    schedule: { every: '1m' },
    staleAfter: 1,
    criticalAfter: 1000,
  };
  editInventory(rig, (inventory) => {
    inventory.hosts[staleHost] = staleEntry;
  });
  await rig.startWorker();
  workers.push(await startServerWorker(rig, otherServer));
  await backup(staleHost, rig.server, 0);
  const staleSince = Date.now();
  await backup(rig.hostName, rig.server, 0);
  // A second run with more data: the host page's charts get two points of different sizes.
  writeFileSync(join(rig.source, 'more'), 'y'.repeat(256 * 1024));
  await backup(rig.hostName, rig.server, 0);
  await backup(rig.hostName, otherServer, 0);
  await backup(failedHost, rig.server, 1);
  await backup(pausedHost, rig.server, 0);
  editInventory(rig, (inventory) => {
    delete inventory.hosts[staleHost];
  });
  const synced = await rig.cli(['sync']);
  assert.equal(synced.exitCode, 0, synced.stdout + synced.stderr);
  editInventory(rig, (inventory) => {
    inventory.hosts[staleHost] = staleEntry;
  });
  const paused = await rig.cli(['pause', '--host', pausedHost, '--reason', 'disk swap']);
  assert.equal(paused.exitCode, 0, paused.stdout + paused.stderr);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, staleSince + 62_000 - Date.now())));

  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  const hashed = await execa(process.execPath, [cliPath, 'web-password', operatorName], { input: `${password}\n` });
  passwordFile = join(rig.dir, 'web-passwords');
  writeFileSync(passwordFile, `# console operators\n${hashed.stdout}\n`, { mode: 0o600 });
  auditLog = join(rig.dir, 'web-audit.log');
  const args = ['web', '--listen', `127.0.0.1:${port}`, '--password-file', passwordFile, '--audit-log', auditLog];
  web = spawn(process.execPath, [cliPath, '--config', rig.inventoryPath, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TEMPORAL_ADDRESS: testServices().temporal },
  });
  let output = '';
  web.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('tidemark web', async () => output.includes(`serving ${webUrl}`), 60_000);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  web?.kill('SIGTERM');
  for (const worker of workers) worker.kill('SIGKILL');
  // The schedules the sync made (the suite's afterAll checks look for leftovers).
  for (const [host, server] of [
    [rig.hostName, rig.server],
    [rig.hostName, otherServer],
    [failedHost, rig.server],
    [pausedHost, rig.server],
  ] as const)
    await rig.client.schedule
      .getHandle(backupScheduleId(host, server))
      .delete()
      .catch(() => undefined);
  await rig?.close();
  await zfs(['destroy', '-r', '-f', `${rig.dataset.split('/').slice(0, -1).join('/')}b`]).catch(() => undefined);
});

function readInventory(): Record<string, any> {
  return parse(readFileSync(rig.inventoryPath, 'utf8'));
}

async function backup(host: string, server: string, expectedExit: number): Promise<void> {
  const result = await rig.cli(['start-backup', '--host', host, '--server', server, '--wait']);
  assert.equal(result.exitCode, expectedExit, result.stdout + result.stderr);
}

/** Each row under `selector`: the named `data-*` attributes ('' when absent), its text with spaces folded, its
 * link into the Temporal Web UI (`a.run`) and its cells' texts. */
async function tableRows<Name extends string>(page: Page, selector: string, attributes: readonly Name[]) {
  const rows = await page.locator(selector).evaluateAll(
    (elements, names) =>
      elements.map((row) => ({
        data: Object.fromEntries(names.map((name) => [name, row.getAttribute(`data-${name}`) ?? ''])),
        text: (row.textContent ?? '').replace(/\s+/g, ' '),
        runLink: row.querySelector('a.run')?.getAttribute('href') ?? null,
        cells: [...row.querySelectorAll('td')].map((cell) => cell.textContent?.trim() ?? ''),
      })),
    attributes,
  );
  return rows.map(({ data, ...row }) => ({ ...(data as Record<Name, string>), ...row }));
}

/** A fresh browser context with the operator logged in through the login form. */
async function loggedIn() {
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(`${webUrl}/login`);
  await page.fill('input[name=user]', operatorName);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${webUrl}/`), page.click('button[type=submit]')]);
  return { context, page };
}

const pageRows = (page: Page) => tableRows(page, '#fleet tbody tr', ['host', 'server', 'verdict']);

test('the fleet page shows every pair of both servers with the verdict "tidemark status" gives it', async () => {
  const page = await browser!.newPage({ viewport: { width: 1500, height: 620 } });
  await page.goto(webUrl);
  const rows = await pageRows(page);
  const status = await rig.cli(['status', '--json']);
  const judged = (JSON.parse(status.stdout) as Array<{ host: string; server: string; verdict: string }>).filter(
    (row) => row.verdict !== undefined,
  );
  const key = (row: { host: string; server: string }) => `${row.host}@${row.server}`;
  assert.deepEqual(
    Object.fromEntries(rows.map((row) => [key(row), row.verdict])),
    Object.fromEntries(judged.map((row) => [key(row), row.verdict])),
    'the page and status agree on every pair',
  );
  const byPair = new Map(rows.map((row) => [key(row), row]));
  const row = (host: string, server: string) => byPair.get(`${host}@${server}`)!;
  assert.equal(row(rig.hostName, rig.server).verdict, 'OK');
  assert.equal(row(rig.hostName, otherServer).verdict, 'OK');
  assert.equal(row(failedHost, rig.server).verdict, 'CRITICAL');
  assert.match(row(failedHost, rig.server).text, /last run FAILED/);
  assert.equal(row(pausedHost, rig.server).verdict, 'WARNING');
  assert.match(row(pausedHost, rig.server).text, /PAUSED \(paused by \S+: disk swap\)/);
  assert.equal(row(staleHost, rig.server).verdict, 'WARNING');
  assert.match(row(staleHost, rig.server).text, /more than 1 × its interval 1m/);
  // Hosts of one server only are not listed on the other; the demo host has both.
  assert.equal(rows.length, 5);
  // The newest run links into the Temporal Web UI.
  assert.match(row(failedHost, rig.server).runLink ?? '', /\/namespaces\/default\/workflows\/[^/]+\/[0-9a-f-]{36}/);
  const summary = await page.locator('.summary').innerText();
  assert.match(summary, /OK\s+2/);
  assert.match(summary, /WARNING\s+2/);
  assert.match(summary, /CRITICAL\s+1/);
  await page.screenshot({ path: fleetScreenshot });

  // Filter and sort through the form: only the failed pair is CRITICAL; sorting by host puts names in order.
  await page.selectOption('select[name=verdict]', 'CRITICAL');
  await Promise.all([page.waitForURL(/verdict=CRITICAL/), page.click('button[type=submit]')]);
  assert.deepEqual((await pageRows(page)).map(key), [`${failedHost}@${rig.server}`]);
  await page.goto(`${webUrl}/?sort=host&server=${encodeURIComponent(otherServer)}`);
  assert.deepEqual((await pageRows(page)).map(key), [`${rig.hostName}@${otherServer}`]);
  await page.close();
});

const hostPageSnapshots = (page: Page) => tableRows(page, '#snapshots tbody tr', ['name', 'kind', 'marks']);

test('the host page lists the snapshots "tidemark snapshots" lists, with the rule keeping each, its runs and settings, and draws its charts', async () => {
  const page = await browser!.newPage({ viewport: { width: 1300, height: 1100 } });
  // From the fleet page's link, as an operator gets there.
  await page.goto(`${webUrl}/?host=${rig.hostName}&server=${encodeURIComponent(rig.server)}`);
  await Promise.all([
    page.waitForURL(/\/host\//),
    page.locator(`tr[data-host="${rig.hostName}"][data-server="${rig.server}"] a.host`).click(),
  ]);
  const cli = await rig.cli(['snapshots', '--host', rig.hostName, '--server', rig.server, '--json']);
  assert.equal(cli.exitCode, 0, cli.stderr);
  const expected = (
    JSON.parse(cli.stdout) as {
      snapshots: Array<{ name: string; kind: string; keep: boolean; reasons: string[]; holds: number | null }>;
    }
  ).snapshots;
  assert.equal(expected.length, 2, cli.stdout);
  const shown = await hostPageSnapshots(page);
  assert.deepEqual(
    shown.map((row) => [row.name, row.kind]),
    expected.map((row) => [row.name, row.kind]),
    'the same snapshots, oldest first, of the same kinds',
  );
  for (const [index, row] of expected.entries()) {
    const kept = row.keep ? row.reasons.join(', ') : '— (pruned by the next prune)';
    assert.ok(shown[index]!.text.includes(kept), `${shown[index]!.text} names "${kept}"`);
  }
  // Recent runs: both successes, newest first, each linking into the Temporal Web UI.
  const runs = (await tableRows(page, '#runs tbody tr', ['status'])).map((row) => [row.status, row.runLink ?? '']);
  assert.equal(runs.length, 2, JSON.stringify(runs));
  for (const [status, link] of runs) {
    assert.equal(status, 'SUCCESS');
    assert.match(link!, /\/namespaces\/default\/workflows\/[^/]+\/[0-9a-f-]{36}\/history$/);
  }
  // Effective settings as `config check --explain` gives them.
  const explained = await rig.cli(['config', 'check', '--explain', rig.hostName, '--json']);
  assert.equal(explained.exitCode, 0, explained.stderr);
  const settings = JSON.parse(explained.stdout) as Array<{ setting: string }>;
  assert.deepEqual(
    (await tableRows(page, '#settings tr', ['setting'])).map((row) => row.setting),
    settings.map((item) => item.setting),
  );
  // The charts are drawn: a canvas each, with a point per snapshot and per run.
  await page.waitForSelector('#size-chart[data-points] canvas');
  await page.waitForSelector('#run-chart[data-points] canvas');
  assert.equal(await page.locator('#size-chart').getAttribute('data-points'), String(expected.length));
  assert.equal(await page.locator('#run-chart').getAttribute('data-points'), '2');
  await page.screenshot({ path: hostScreenshot, fullPage: true });
  await page.close();
});

test('the browser lists a snapshot\'s directory as "tidemark files" does, walks into a directory, and follows no host-made symlink', async () => {
  const page = await browser!.newPage({ viewport: { width: 1300, height: 700 } });
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(rig.server)}`);
  await Promise.all([page.waitForURL(/\/files\?/), page.click('#browse')]);
  const listed = async (path: string) => {
    const cli = await rig.cli(['files', '--host', rig.hostName, '--server', rig.server, '--json', path]);
    assert.equal(cli.exitCode, 0, cli.stderr);
    return JSON.parse(cli.stdout) as { snapshot: string; entries: Array<{ name: string; type: string }> };
  };
  const shown = () =>
    tableRows(page, '#files tbody tr', ['name', 'type']).then((rows) => rows.map((row) => [row.name, row.type]));
  // Down to the host's source directory through the path's links, one level at a time.
  for (const part of rig.source.split('/').filter(Boolean))
    await Promise.all([page.waitForURL(/path=/), page.locator(`#files a.dir`, { hasText: `${part}/` }).click()]);
  const expected = await listed(rig.source);
  assert.deepEqual(
    await shown(),
    expected.entries.map((entry) => [entry.name, entry.type]),
  );
  assert.match(await page.locator('select[name=snapshot]').inputValue(), new RegExp(expected.snapshot));
  assert.match(await page.locator('tr[data-name=escape]').innerText(), /-> \/etc/);
  // A path's history across snapshots, from the row's link: what `tidemark history` says.
  await Promise.all([page.waitForURL(/\/history\?/), page.locator('tr[data-name=more] a.history').click()]);
  const cliHistory = await rig.cli([
    'history',
    '--host',
    rig.hostName,
    '--server',
    rig.server,
    '--json',
    join(rig.source, 'more'),
  ]);
  assert.equal(cliHistory.exitCode, 0, cliHistory.stderr);
  const expectedHistory = (
    JSON.parse(cliHistory.stdout) as { snapshots: Array<{ snapshot: string; changed: boolean }> }
  ).snapshots;
  assert.equal(expectedHistory.length, 1, cliHistory.stdout);
  assert.deepEqual(
    (await tableRows(page, '#history tbody tr', ['snapshot', 'changed'])).map((row) => [row.snapshot, row.changed]),
    expectedHistory.map((entry) => [entry.snapshot, entry.changed ? 'yes' : 'no']),
  );
  assert.match(await page.locator('body').innerText(), /absent from: tidemark-/, 'the first snapshot lacks it');
  // Find by name across the snapshots, from the host page's form: what `tidemark find` lists.
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(rig.server)}`);
  await Promise.all([page.waitForURL(/\/find\?/), page.click('a#find')]);
  await page.fill('#find input[name=pattern]', '*.CONF');
  await page.check('#find input[name=ignoreCase]');
  await Promise.all([page.waitForURL(/pattern=/), page.click('#find button[type=submit]')]);
  const cliFind = await rig.cli([
    'find',
    '--host',
    rig.hostName,
    '--server',
    rig.server,
    '--ignore-case',
    '--json',
    '*.CONF',
  ]);
  assert.equal(cliFind.exitCode, 0, cliFind.stderr);
  const expectedFound = (
    JSON.parse(cliFind.stdout) as { snapshots: Array<{ snapshot: string; matches: Array<{ path: string }> }> }
  ).snapshots.flatMap((entry) => entry.matches.map((match) => [entry.snapshot, match.path]));
  assert.equal(expectedFound.length, 2, cliFind.stdout);
  assert.deepEqual(
    (await tableRows(page, '#found tbody tr', ['snapshot', 'path'])).map((row) => [row.snapshot, row.path]),
    expectedFound,
  );
  // Through the symlink: not in the snapshot (the worker looks paths up beneath its root).
  const through = await fetch(
    `${webUrl}/host/${rig.hostName}/files?server=${encodeURIComponent(rig.server)}&path=${encodeURIComponent(`${rig.source}/escape/passwd`)}`,
  );
  assert.match(await through.text(), /is not in snapshot/);
  const relative = await fetch(
    `${webUrl}/host/${rig.hostName}/files?server=${encodeURIComponent(rig.server)}&path=etc`,
  );
  assert.equal(relative.status, 400);
  assert.match(await relative.text(), /path: &quot;etc&quot; is not absolute/);
  await page.close();
});

test('the host page of a host the inventory does not have is a 404 naming the known hosts', async () => {
  const response = await fetch(`${webUrl}/host/no-such-host`);
  assert.equal(response.status, 404);
  assert.match(await response.text(), /no-such-host/);
});

test('a console on a non-loopback address is refused without TLS and authentication, naming the options', async () => {
  const result = await rig.cli(['web', '--listen', '0.0.0.0:0']);
  assert.equal(result.exitCode, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /--tls-cert and --tls-key/);
  assert.match(result.stderr, /--password-file or --trusted-user-header/);
});

test("pool facts come from each server's worker; one server's worker stopped, its rows are marked unreachable and the other's still show", async () => {
  const page = await browser!.newPage({ viewport: { width: 1500, height: 620 } });
  const reachability = async () => {
    await page.goto(webUrl);
    const rows = await tableRows(page, '#fleet tbody tr', ['host', 'server', 'reachable', 'verdict']);
    return rows.map((row) => ({
      pair: `${row.host}@${row.server}`,
      reachable: row.reachable,
      used: row.cells[8] ?? '',
      verdict: row.verdict,
    }));
  };
  const initially = await reachability();
  assert.ok(
    initially.every((row) => row.reachable === 'yes'),
    JSON.stringify(initially),
  );
  // The demo host's dataset on the second server holds its copy: its worker says how big it is.
  const demoOnB = initially.find((row) => row.pair === `${rig.hostName}@${otherServer}`)!;
  assert.match(demoOnB.used, /^\d+(\.\d)?[KMG]$/, JSON.stringify(demoOnB));

  const [workerB] = workers;
  const exited = new Promise((resolve) => workerB!.once('exit', resolve));
  workerB!.kill('SIGKILL');
  await exited;
  let later = initially;
  // Answers are kept 20 s by the console; a dead worker's facts request then fails in its 5 s schedule-to-start.
  await waitFor(
    'the second server marked unreachable',
    async () => (later = await reachability()).some((row) => row.reachable === 'no'),
    120_000,
  );
  for (const row of later) {
    const onB = row.pair.endsWith(`@${otherServer}`);
    assert.equal(row.reachable, onB ? 'no' : 'yes', JSON.stringify(row));
    // The verdicts come from Temporal visibility, which still answers: every row keeps one.
    assert.match(row.verdict ?? '', /^(OK|WARNING|CRITICAL)$/);
  }
  assert.match(await page.locator('.summary').innerText(), /unreachable\s+1/);
  assert.match(
    await page.locator(`tr[data-server="${otherServer}"] .unreachable`).innerText(),
    /server unreachable: no answer from its worker/,
  );
  // The host page too: the stopped server's snapshots are marked unreachable, the other server's still listed.
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(otherServer)}`);
  assert.match(
    await page.locator('#snapshots-unreachable').innerText(),
    /server unreachable: no answer from its worker/,
  );
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(rig.server)}`);
  assert.ok((await page.locator('#snapshots tbody tr').count()) > 0, 'the running server still lists its snapshots');
  await page.close();
});

/** Whether the pair's schedule is paused, and its note (Temporal's own record, not the page). */
async function scheduleState(host: string, server: string): Promise<{ paused: boolean; note: string }> {
  const { state } = await rig.client.schedule.getHandle(backupScheduleId(host, server)).describe();
  return { paused: state.paused, note: state.note ?? '' };
}

test('an action without login is refused, and so is a forged cross-site POST from a logged-in browser', async () => {
  const pair = { host: rig.hostName, server: rig.server };
  const anonymous = await browser!.newContext();
  const refused = await anonymous.request.post(`${webUrl}/actions/pause`, {
    form: { ...pair, reason: 'nobody' },
    headers: { origin: webUrl },
    maxRedirects: 0,
  });
  assert.equal(refused.status(), 401, await refused.text());
  assert.match(await refused.text(), /log in first/);
  await anonymous.close();

  // A logged-in operator's browser visits another site whose page posts a form to the console.
  const { context, page } = await loggedIn();
  assert.match(await page.locator('.who').innerText(), new RegExp(`operator ${operatorName}`));
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  const evil = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(
      `<form id="f" method="post" action="${webUrl}/actions/pause"><input name="host" value="${pair.host}">` +
        `<input name="server" value="${pair.server}"><input name="csrf" value="${csrf}"></form>` +
        '<script>document.getElementById("f").submit()</script>',
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.2', resolve));
  try {
    const evilUrl = `http://127.0.0.2:${(evil.address() as AddressInfo).port}/`;
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url() === `${webUrl}/actions/pause`),
      page.goto(evilUrl),
    ]);
    assert.equal(response.status(), 403);
    // Even with the token and the cookie in hand, a request naming another origin is refused.
    const forged = await context.request.post(`${webUrl}/actions/pause`, {
      form: { ...pair, csrf },
      headers: { origin: evilUrl.replace(/\/$/, '') },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403, await forged.text());
  } finally {
    evil.close();
  }
  assert.equal((await scheduleState(pair.host, pair.server)).paused, false, 'nothing paused the schedule');
  const audit = await rig.cli(['web-audit', '--audit-log', auditLog, '--json']);
  assert.deepEqual(JSON.parse(audit.stdout), [], 'refused requests are not actions');

  // The operator's own form pauses it, with the reason, and the audit log says who did what.
  await page.goto(`${webUrl}/?host=${pair.host}&server=${encodeURIComponent(pair.server)}`);
  const row = page.locator(`tr[data-host="${pair.host}"][data-server="${pair.server}"]`);
  await row.locator('input[name=reason]').fill('firmware update');
  await Promise.all([page.waitForURL(`${webUrl}/`), row.locator('form[action="/actions/pause"] button').click()]);
  assert.deepEqual(await scheduleState(pair.host, pair.server), {
    paused: true,
    note: `paused by ${operatorName} (web): firmware update`,
  });
  const printed = await rig.cli(['web-audit', '--audit-log', auditLog]);
  assert.equal(printed.exitCode, 0, printed.stderr);
  assert.match(
    printed.stdout,
    new RegExp(`^\\S+Z  ${operatorName}  pause ${pair.host}@${pair.server}  done  reason: firmware update$`, 'm'),
  );
  await context.close();
});

test('a file downloaded from a snapshot is byte-identical (sha256); without login it is refused', async () => {
  const path = join(rig.source, 'etc', 'blob.bin');
  const cli = await rig.cli(['files', '--host', rig.hostName, '--server', rig.server, '--json', path]);
  const { snapshot } = JSON.parse(cli.stdout) as { snapshot: string };
  const query = new URLSearchParams({ server: rig.server, snapshot, path });
  const url = `${webUrl}/host/${rig.hostName}/download?${query.toString()}`;
  const anonymous = await fetch(url);
  assert.equal(anonymous.status, 401);
  const { context, page } = await loggedIn();
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const fetched = await context.request.get(url, { timeout: 120_000 });
  assert.equal(fetched.status(), 200, fetched.status() === 200 ? '' : await fetched.text());
  assert.equal(sha256(await fetched.body()), sha256(readFileSync(path)), 'the same bytes as the host had');
  // The browser's own download, from the link on the browse page.
  await page.goto(
    `${webUrl}/host/${rig.hostName}/files?${new URLSearchParams({ server: rig.server, snapshot, path: join(rig.source, 'etc') }).toString()}`,
  );
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.click('tr[data-name="blob.bin"] a.file'),
  ]);
  assert.equal(download.suggestedFilename(), 'blob.bin');
  const saved = join(rig.dir, 'downloaded.bin');
  await download.saveAs(saved);
  assert.equal(sha256(readFileSync(saved)), sha256(readFileSync(path)), 'the browser saved the same bytes');
  // A symlink is not a file to download, nor is anything reached through one.
  const through = await context.request.get(
    `${webUrl}/host/${rig.hostName}/download?${new URLSearchParams({ server: rig.server, snapshot, path: `${rig.source}/escape/passwd` }).toString()}`,
  );
  assert.equal(through.status(), 400);
  assert.match(await through.text(), /is not a regular file/);
  await context.close();
});

test("a restore started from the page produces the same tree as the CLI's, and is audited", async () => {
  const fromPage = await mkdtemp(join(rig.dir, 'web-restore-'));
  const fromCli = await mkdtemp(join(rig.dir, 'cli-restore-'));
  const { context, page } = await loggedIn();
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(rig.server)}`);
  await page.fill('#restore textarea[name=paths]', rig.source);
  await page.fill('#restore input[name=to]', fromPage);
  await Promise.all([page.waitForURL(/\/restores\//), page.click('#restore button[type=submit]')]);
  await page.waitForSelector('#restore-state[data-state=done], #restore-state[data-state=failed]', {
    timeout: 180_000,
  });
  assert.equal(
    await page.locator('#restore-state').getAttribute('data-state'),
    'done',
    await page.locator('#restore-state').innerText(),
  );
  const cli = await rig.cli(
    ['restore', '--host', rig.hostName, '--server', rig.server, '--path', rig.source, '--to', fromCli, '--wait'],
    { timeoutMs: 180_000 },
  );
  assert.equal(cli.exitCode, 0, cli.stdout + cli.stderr);
  const diff = await execa('diff', ['-r', '--no-dereference', fromPage, fromCli], { reject: false });
  assert.equal(diff.exitCode, 0, diff.stdout + diff.stderr);
  assert.ok(existsSync(join(fromPage, rig.source, 'etc', 'blob.bin')), 'the tree is there');
  // A restore over the backup server's live system needs the CLI's confirmation here too.
  await page.goto(`${webUrl}/host/${rig.hostName}?server=${encodeURIComponent(rig.server)}`);
  await page.fill('#restore input[name=to]', '/');
  const [refused] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith('/restore')),
    page.click('#restore button[type=submit]'),
  ]);
  assert.equal(refused.status(), 400);
  assert.match(await page.locator('.refused').innerText(), /overwrite/i);
  const audit = await rig.cli(['web-audit', '--audit-log', auditLog, '--json']);
  assert.ok(
    (JSON.parse(audit.stdout) as Array<{ action: string; outcome: string; user: string }>).some(
      (entry) => entry.action === 'restore' && entry.outcome === 'done' && entry.user === operatorName,
    ),
    audit.stdout,
  );
  await context.close();
});
