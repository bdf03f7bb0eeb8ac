// Connecting the CLI, the scheduled inventory sync and (through connectionOptions) the worker to Temporal,
// with errors that say where it looked and which setting to change.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { ConfigDataSource } from '@temporalio/envconfig';
import { TidemarkError } from '../domain/errors.js';
import { describeConnection, type Sourced, type TemporalSettings } from './settings.js';
import { trackConnection } from './open-connections.js';

export interface ConnectionSettings {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** The bytes of a certificate, key or API key; an unreadable or non-PEM file is an error naming its setting.
 * `secret`: a key file open to group or others is refused, like the inventory's other secret files. */
function readData(
  source: Sourced<ConfigDataSource>,
  pem: 'CERTIFICATE' | 'PRIVATE KEY' | undefined,
  secret = false,
): Uint8Array {
  let data: Uint8Array;
  const where = 'path' in source.value ? source.value.path : 'the value';
  if ('path' in source.value) {
    const path = source.value.path;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      // fstat of the file that is read: a swap between the check and the read cannot slip past it.
      const mode = fstatSync(fd).mode & 0o777;
      if (secret && (mode & 0o077) !== 0)
        throw new TidemarkError(
          'CONFIG_INVALID',
          `${source.setting}: ${path} is open to group or others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
        );
      data = readFileSync(fd);
    } catch (error) {
      if (error instanceof TidemarkError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new TidemarkError(
        'CONFIG_INVALID',
        `${source.setting}: cannot read ${path} (${code}); fix the path or the file's permissions`,
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  } else {
    data = typeof source.value.data === 'string' ? Buffer.from(source.value.data) : source.value.data;
  }
  // The TLS library's own error for a wrong file does not say which file it was.
  if (pem && !Buffer.from(data).toString('latin1').includes(`-----BEGIN `)) {
    throw new TidemarkError(
      'CONFIG_INVALID',
      `${source.setting}: ${where} is not PEM (expected a "-----BEGIN ${pem}-----" block)`,
    );
  }
  return data;
}

/** True for 127.0.0.0/8, ::1 and localhost: only this machine can reach the address. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.replace(/:\d+$/, '');
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Anyone who can use the namespace controls every worker's permitted actions: off this machine, Temporal
 * access must be authenticated (TLS with a client certificate, or TLS with an API key). */
export function unauthenticatedTemporalProblem(settings: TemporalSettings): string | undefined {
  if (isLoopbackAddress(settings.address)) return undefined;
  if (settings.tls && (settings.tls.clientCert || settings.apiKey)) return undefined;
  return (
    `${settings.addressSetting}: Temporal at ${settings.address} is not on loopback and the connection is not authenticated; ` +
    'whoever can use the namespace controls every backup server, so set temporal.tls.clientCertFile and clientKeyFile (mutual TLS) ' +
    'or temporal.apiKeyFile with temporal.tls (or TEMPORAL_TLS_CLIENT_CERT_PATH/TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_API_KEY)'
  );
}

/** What both SDK connections take: the certificates and the API key read now, from their files. */
export function connectionOptions(settings: TemporalSettings): ConnectionSettings {
  const refused = unauthenticatedTemporalProblem(settings);
  if (refused) throw new TidemarkError('CONFIG_INVALID', refused);
  const tls = settings.tls;
  const apiKey = settings.apiKey
    ? Buffer.from(readData(settings.apiKey, undefined, true))
        .toString('utf8')
        .trim()
    : undefined;
  if (settings.apiKey && !apiKey)
    throw new TidemarkError('CONFIG_INVALID', `${settings.apiKey.setting}: the API key is empty`);
  return {
    address: settings.address,
    ...(tls
      ? {
          tls: {
            ...(tls.serverName ? { serverNameOverride: tls.serverName.value } : {}),
            ...(tls.serverCaCert ? { serverRootCACertificate: readData(tls.serverCaCert, 'CERTIFICATE') } : {}),
            ...(tls.clientCert && tls.clientKey
              ? {
                  clientCertPair: {
                    crt: readData(tls.clientCert, 'CERTIFICATE'),
                    key: readData(tls.clientKey, 'PRIVATE KEY', true),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(settings.grpcMeta ? { metadata: settings.grpcMeta } : {}),
  };
}

/** Exit 4 with where it tried, how, and the likeliest setting to change. */
export function temporalUnavailable(settings: TemporalSettings, error: unknown): TidemarkError {
  const reason = ((error as Error).message ?? String(error)).split('\n')[0];
  const hint = !settings.tls
    ? 'if the server speaks TLS, set temporal.tls in the inventory or TEMPORAL_TLS=true; else check the address (temporal.address or TEMPORAL_ADDRESS) and that Temporal runs'
    : !settings.tls.clientCert
      ? 'if the server requires a client certificate (mutual TLS), give one: temporal.tls.clientCertFile and clientKeyFile, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH'
      : 'check that the server trusts this client certificate, that the server CA and name match its certificate, and that Temporal runs';
  return new TidemarkError(
    'TEMPORAL_UNAVAILABLE',
    `cannot connect to Temporal at ${describeConnection(settings)}: ${reason}; ${hint}`,
  );
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const options = connectionOptions(settings);
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: '5s' });
    trackConnection(connection);
    return new Client({ connection, namespace: settings.namespace });
  } catch (error) {
    throw temporalUnavailable(settings, error);
  }
}
