// Where `tidemark web` listens, and whether it may: a console on anything but loopback serves the fleet's
// state and its actions to the network, so it needs TLS and a way to know the operator first.
import { isIP } from 'node:net';
import { TidemarkError } from '../domain/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const defaultListen = '127.0.0.1:8380';

/** `ADDR:PORT` or `[IPv6]:PORT`, e.g. 127.0.0.1:8380 or [::1]:8380. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TidemarkError(
      'USAGE',
      `--listen: "${value}" is not ADDR:PORT; write e.g. 127.0.0.1:8380, [::1]:8380 or 0.0.0.0:8380`,
    );
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export interface Exposure {
  tls: boolean;
  auth: boolean;
}

/** Refuses a non-loopback address unless TLS and operator authentication are both configured. */
export function checkExposure(listen: ListenAddress, exposure: Exposure): void {
  if (isLoopback(listen.host)) return;
  const missing = [
    ...(exposure.tls ? [] : ['--tls-cert and --tls-key (TLS)']),
    ...(exposure.auth ? [] : ['--password-file or --trusted-user-header (operator authentication)']),
  ];
  if (missing.length > 0)
    throw new TidemarkError(
      'USAGE',
      `--listen ${listen.host}: a console on a non-loopback address needs ${missing.join(' and ')}; ` +
        'or listen on 127.0.0.1 behind a TLS reverse proxy (docs/how-to/web-console.md)',
    );
}
