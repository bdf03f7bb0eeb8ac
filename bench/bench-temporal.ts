// The Temporal server a benchmark talks to: TIDEMARK_BENCH_TEMPORAL (host:port) when set, else an in-memory
// dev server of its own (stopped by close()); `run` is a suffix that keeps this run's names apart.
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../devenv/temporal-dev.js';
import { freePort } from '../worker/free-port.js';

export interface BenchTemporal {
  address: string;
  client: Client;
  /** Set when this process started the dev server. */
  devServer: DevServer | undefined;
  run: string;
  close(): Promise<void>;
}

export async function benchTemporal(): Promise<BenchTemporal> {
  let devServer: DevServer | undefined;
  const address =
    process.env.TIDEMARK_BENCH_TEMPORAL ?? (devServer = await startDevServer({ port: await freePort() })).address;
  const connection = await Connection.connect({ address });
  return {
    address,
    client: new Client({ connection }),
    devServer,
    run: Date.now().toString(36),
    async close() {
      await connection.close();
      await devServer?.stop();
    },
  };
}
