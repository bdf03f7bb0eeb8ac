// The console's routes. Read-only pages need no login; every fact comes from Temporal (fleet/status.ts), so
// one console, anywhere with the inventory, serves every backup server.
import { Hono } from 'hono';
import type { Client } from '@temporalio/client';
import type { Inventory } from '../inventory/schema.js';
import type { TemporalSettings } from '../inventory/temporal.js';
import type { Verdict } from '../fleet/verdict.js';
import { fleetRows, selectRows, sortKeys, type FleetQuery, type SortKey } from './fleet-data.js';
import { fleetPage } from './fleet-page.js';
import { ServerFactsCache } from './server-facts.js';
import { stylesheet } from './stylesheet.js';

export interface ConsoleOptions {
  client: Client;
  settings: TemporalSettings;
  /** Read at every page load, so an edited inventory shows without a restart. */
  loadInventory: () => Promise<Inventory>;
  refreshSeconds: number;
}

export function consoleApp(options: ConsoleOptions): Hono {
  const app = new Hono();
  const facts = new ServerFactsCache(options.client);
  const rows = async () => fleetRows(options.client, await options.loadInventory(), options.settings, facts);

  app.get('/', async (c) => {
    const query = fleetQuery((name) => c.req.query(name));
    const all = await rows();
    return c.html(fleetPage(all, selectRows(all, query), query, options.refreshSeconds));
  });
  app.get('/fleet.json', async (c) => {
    const query = fleetQuery((name) => c.req.query(name));
    return c.json(selectRows(await rows(), query));
  });
  app.get('/assets/console.css', (c) => c.body(stylesheet, 200, { 'content-type': 'text/css; charset=utf-8' }));
  return app;
}

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
