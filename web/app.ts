// The console's routes. Read-only pages need no login; every fact comes from Temporal (fleet/status.ts, and
// each server's worker through web/server-facts.ts), so one console, anywhere with the inventory, serves
// every backup server. Actions need an operator (web/session.ts) and pass the CSRF checks.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { Client } from '@temporalio/client';
import { TidemarkError } from '../domain/errors.js';
import { runUrl } from '../domain/names.js';
import type { Inventory } from '../inventory/schema.js';
import type { TemporalSettings } from '../temporal/settings.js';
import type { Verdict } from '../fleet/verdict.js';
import { actionNames, runAction, type ActionName } from './actions.js';
import { fleetRows, selectRows, sortKeys, type FleetQuery, type SortKey } from './fleet-data.js';
import { FleetRowsCache } from './fleet-cache.js';
import { fleetPage } from './fleet-page.js';
import { hostChartsScript } from './host-charts.js';
import { browsePage, findPage, historyPage } from './browse-page.js';
import { browseData, findData, historyData, hostPageData, hostPair as hostPairOf } from './host-data.js';
import { DownloadRefused, downloadResponse } from './download.js';
import { restoreFormFields, restorePage, restoreState, startRestore } from './restore.js';
import { hostPage } from './host-page.js';
import { layout } from './layout.js';
import type { PasswordFile } from './operators.js';
import { ServerFactsCache } from './server-facts.js';
import { sameOrigin, sameToken, sessionCookie, Sessions, type Operator } from './session.js';
import { stylesheet } from './stylesheet.js';

export interface ConsoleOptions {
  client: Client;
  settings: TemporalSettings;
  /** Read at every page load, so an edited inventory shows without a restart. */
  loadInventory: () => Promise<Inventory>;
  refreshSeconds: number;
  passwords?: PasswordFile;
  /** The header a reverse proxy in front sets to the user it authenticated (lower case). */
  trustedUserHeader?: string;
  auditLog: string;
  /** Cookies get `Secure` when the console itself serves HTTPS. */
  secure: boolean;
  /** The fleet's status is collected again at most this often (web/fleet-cache.ts); default 10 s. */
  collectEverySeconds?: number;
}

export interface ConsoleApp {
  app: Hono;
  /** Ends the background collection. */
  stop: () => void;
}

export function consoleApp(options: ConsoleOptions): ConsoleApp {
  const app = new Hono();
  const facts = new ServerFactsCache(options.client);
  const sessions = new Sessions();
  // Pages are served the rows collected last, so no load waits on Temporal (bench:web).
  const fleet = new FleetRowsCache(
    async () => fleetRows(options.client, await options.loadInventory(), options.settings, facts),
    (options.collectEverySeconds ?? 10) * 1000,
  );
  fleet.start();
  const rows = async () => (await fleet.rows()).rows;
  const operatorOf = (c: Context): Operator | undefined =>
    sessions.operator(
      getCookie(c, sessionCookie),
      options.trustedUserHeader ? c.req.header(options.trustedUserHeader) || undefined : undefined,
    );
  // Behind a proxy the browser's Origin names the proxy's host, which the proxy passes on as X-Forwarded-Host.
  const ownHost = (c: Context) =>
    (options.trustedUserHeader ? c.req.header('x-forwarded-host') : undefined) ?? c.req.header('host');
  const refuse = (c: Context, status: 401 | 403 | 400, message: string) =>
    c.html(layout('Refused', html`<p class="refused">${message}</p>`), status);

  app.get('/', async (c) => {
    const query = fleetQuery((name) => c.req.query(name));
    const { rows: all, collectedAt } = await fleet.rows();
    return c.html(fleetPage(all, selectRows(all, query), query, options.refreshSeconds, operatorOf(c), collectedAt));
  });
  app.get('/fleet.json', async (c) => {
    const query = fleetQuery((name) => c.req.query(name));
    return c.json(selectRows(await rows(), query));
  });
  app.get('/assets/console.css', (c) => c.body(stylesheet, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/host-charts.js', (c) => c.body(hostChartsScript, 200, { 'content-type': scriptType }));
  app.get('/assets/uplot.js', (c) => c.body(uplot.script, 200, { 'content-type': scriptType }));
  app.get('/assets/uplot.css', (c) => c.body(uplot.stylesheet, 200, { 'content-type': 'text/css; charset=utf-8' }));

  app.get('/host/:host/files', async (c) => {
    try {
      const data = await browseData(options.client, await options.loadInventory(), {
        host: c.req.param('host'),
        ...(c.req.query('server') ? { server: c.req.query('server')! } : {}),
        ...(c.req.query('snapshot') ? { snapshot: c.req.query('snapshot')! } : {}),
        path: c.req.query('path') || '/',
      });
      return c.html(browsePage(data), 'refused' in data.listing ? 400 : 200);
    } catch (error) {
      if (error instanceof TidemarkError)
        return c.html(layout('Unknown host', html`<p class="refused">${error.message}</p>`), 404);
      throw error;
    }
  });
  // File contents can hold secrets: a download needs an operator, as actions do (a GET changes nothing, so no
  // CSRF token; the session cookie is SameSite=Strict).
  app.get('/host/:host/download', async (c) => {
    const operator = operatorOf(c);
    if (!operator) return refuse(c, 401, 'log in first: downloading a file needs an operator');
    const server = c.req.query('server');
    const snapshot = c.req.query('snapshot');
    const path = c.req.query('path');
    if (!server || !snapshot || !path) return refuse(c, 400, 'server, snapshot and path are needed to download a file');
    try {
      const { pair } = await hostPairOf(await options.loadInventory(), c.req.param('host'), server);
      return await downloadResponse(options.client, { ...pair, snapshot, path });
    } catch (error) {
      if (error instanceof TidemarkError || error instanceof DownloadRefused) return refuse(c, 400, error.message);
      throw error;
    }
  });
  app.post('/host/:host/restore', async (c) => {
    if (!sameOrigin(c.req.header('origin'), ownHost(c))) return refuse(c, 403, 'cross-site request refused');
    const operator = operatorOf(c);
    if (!operator) return refuse(c, 401, 'log in first: a restore needs an operator');
    const form = await c.req.parseBody();
    if (!sameToken(operator.csrf, form.csrf)) return refuse(c, 403, 'missing or stale form token: reload the page');
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');
    try {
      const started = await startRestore(
        options.client,
        await options.loadInventory(),
        options.auditLog,
        operator.user,
        restoreFormFields(c.req.param('host'), field),
      );
      return c.redirect(`/restores/${encodeURIComponent(started.workflowId)}?run=${started.runId}`, 303);
    } catch (error) {
      if (error instanceof TidemarkError) return refuse(c, 400, error.message);
      throw error;
    }
  });
  app.get('/restores/:id', async (c) => {
    const workflowId = c.req.param('id');
    const runId = c.req.query('run') || undefined;
    const state = await restoreState(options.client, workflowId, runId);
    return c.html(restorePage(workflowId, state, runUrl(options.settings, workflowId, runId ?? '')));
  });
  app.get('/host/:host/history', async (c) => {
    try {
      const data = await historyData(options.client, await options.loadInventory(), {
        host: c.req.param('host'),
        ...(c.req.query('server') ? { server: c.req.query('server')! } : {}),
        path: c.req.query('path') || '/',
      });
      return c.html(historyPage(data), 'refused' in data.history ? 400 : 200);
    } catch (error) {
      if (error instanceof TidemarkError)
        return c.html(layout('Unknown host', html`<p class="refused">${error.message}</p>`), 404);
      throw error;
    }
  });
  app.get('/host/:host/find', async (c) => {
    try {
      const data = await findData(options.client, await options.loadInventory(), {
        host: c.req.param('host'),
        ...(c.req.query('server') ? { server: c.req.query('server')! } : {}),
        pattern: c.req.query('pattern') ?? '',
        ignoreCase: c.req.query('ignoreCase') === 'yes',
      });
      return c.html(findPage(data), data.found && 'refused' in data.found ? 400 : 200);
    } catch (error) {
      if (error instanceof TidemarkError)
        return c.html(layout('Unknown host', html`<p class="refused">${error.message}</p>`), 404);
      throw error;
    }
  });
  app.get('/host/:host', async (c) => {
    try {
      const data = await hostPageData(
        options.client,
        await options.loadInventory(),
        options.settings,
        c.req.param('host'),
        c.req.query('server') || undefined,
      );
      return c.html(hostPage(data, options.refreshSeconds, operatorOf(c)));
    } catch (error) {
      if (error instanceof TidemarkError)
        return c.html(layout('Unknown host', html`<p class="refused">${error.message}</p>`), 404);
      throw error;
    }
  });

  app.get('/login', (c) =>
    c.html(
      layout(
        'Log in',
        options.passwords
          ? html`<form method="post" action="/login" class="login">
              <label>operator <input name="user" autocomplete="username" /></label>
              <label>password <input name="password" type="password" autocomplete="current-password" /></label>
              <button type="submit">log in</button>
            </form>`
          : html`<p>No --password-file is configured: operators are the users your reverse proxy names.</p>`,
      ),
    ),
  );
  app.post('/login', async (c) => {
    if (!sameOrigin(c.req.header('origin'), ownHost(c))) return refuse(c, 403, 'cross-site request refused');
    const form = await c.req.parseBody();
    const user = typeof form.user === 'string' ? form.user : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!options.passwords || !(await options.passwords.verify(user, password)))
      return refuse(c, 401, 'wrong operator name or password');
    setCookie(c, sessionCookie, sessions.create(user), {
      httpOnly: true,
      sameSite: 'Strict',
      secure: options.secure,
      path: '/',
    });
    return c.redirect('/', 303);
  });
  app.post('/logout', (c) => {
    sessions.end(getCookie(c, sessionCookie));
    deleteCookie(c, sessionCookie, { path: '/' });
    return c.redirect('/', 303);
  });

  app.post('/actions/:action', async (c) => {
    const action = c.req.param('action');
    if (!(actionNames as readonly string[]).includes(action)) return refuse(c, 400, `unknown action "${action}"`);
    // Origin first: a forged cross-site POST is refused whoever's cookie it carries.
    if (!sameOrigin(c.req.header('origin'), ownHost(c))) return refuse(c, 403, 'cross-site request refused');
    const operator = operatorOf(c);
    if (!operator) return refuse(c, 401, 'log in first: actions need an operator');
    const form = await c.req.parseBody();
    if (!sameToken(operator.csrf, form.csrf)) return refuse(c, 403, 'missing or stale form token: reload the page');
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');
    try {
      const entry = await runAction(options.client, await options.loadInventory(), options.auditLog, {
        action: action as ActionName,
        host: field('host'),
        server: field('server'),
        ...(field('reason') ? { reason: field('reason') } : {}),
        user: operator.user,
      });
      // The page the redirect loads shows the action's effect, not rows collected before it.
      fleet.invalidate();
      if (entry.outcome === 'failed') return refuse(c, 400, `${action} ${entry.host}@${entry.server}: ${entry.detail}`);
      return c.redirect('/', 303);
    } catch (error) {
      if (error instanceof TidemarkError) return refuse(c, 400, error.message);
      throw error;
    }
  });
  return { app, stop: () => fleet.stop() };
}

const scriptType = 'text/javascript; charset=utf-8';

/** uPlot as its package ships it (no build step): read once, served from memory. */
const uplot = (() => {
  const require = createRequire(import.meta.url);
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    stylesheet: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
})();

function fleetQuery(param: (name: string) => string | undefined): FleetQuery {
  const verdict = param('verdict');
  const sort = param('sort');
  return {
    ...(param('host') ? { host: param('host')! } : {}),
    ...(param('server') ? { server: param('server')! } : {}),
    ...(verdict === 'OK' || verdict === 'WARNING' || verdict === 'CRITICAL' ? { verdict: verdict as Verdict } : {}),
    sort: (sortKeys as readonly string[]).includes(sort ?? '') ? (sort as SortKey) : 'verdict',
  };
}
