// A free TCP port for a listener that must be told its port before it starts (the SDK's metrics
// exporter, the test and demo daemons).
import { createServer } from 'node:net';

/** A TCP port free on `address` right now. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
