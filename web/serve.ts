// `tidemark web`: serves the console on a loopback address by default; elsewhere only with TLS and operator
// authentication configured (web/listen.ts says which option is missing).
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Inventory } from '../inventory/schema.js';
import { resolveTemporal } from '../temporal/settings.js';
import { connectClient } from '../temporal/connection.js';
import { TidemarkError } from '../domain/errors.js';
import { consoleApp } from './app.js';
import { defaultAuditLog } from './audit.js';
import { PasswordFile } from './operators.js';
import { checkExposure, parseListen } from './listen.js';

export interface WebOptions {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  passwordFile?: string;
  trustedUserHeader?: string;
  auditLog?: string;
  refresh: number;
}

export interface RunningConsole {
  url: string;
  close: () => Promise<void>;
}

export async function startConsole(
  loadInventory: () => Promise<Inventory>,
  options: WebOptions,
): Promise<RunningConsole> {
  const listen = parseListen(options.listen);
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined))
    throw new TidemarkError('USAGE', '--tls-cert and --tls-key go together: give both, or neither');
  checkExposure(listen, { tls, auth: options.passwordFile !== undefined || options.trustedUserHeader !== undefined });
  // Read now: a broken file stops the console at start, naming its line.
  const passwords = options.passwordFile === undefined ? undefined : PasswordFile.read(options.passwordFile);
  const settings = resolveTemporal(await loadInventory());
  const client = await connectClient(settings);
  const { app, stop } = consoleApp({
    client,
    settings,
    loadInventory,
    refreshSeconds: options.refresh,
    ...(passwords ? { passwords } : {}),
    ...(options.trustedUserHeader ? { trustedUserHeader: options.trustedUserHeader.toLowerCase() } : {}),
    auditLog: options.auditLog ?? defaultAuditLog,
    secure: tls,
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve(
      {
        fetch: app.fetch,
        hostname: listen.host,
        port: listen.port,
        ...(tls
          ? {
              createServer: createHttpsServer,
              serverOptions: { cert: readFileSync(options.tlsCert!), key: readFileSync(options.tlsKey!) },
            }
          : {}),
      },
      () => resolve(started),
    );
    started.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close: async () => {
      stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.connection.close();
    },
  };
}
