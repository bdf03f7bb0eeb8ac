// Where the CLI and the worker find Temporal: a profile of temporal.toml (the Temporal CLI's client config
// file), then the inventory's `temporal:` section, then the standard TEMPORAL_* variables, each layer
// overriding the one before per setting (the SDK's own precedence: the environment wins). Every value
// remembers the setting it came from, so an error can name the line to fix.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  loadClientConfig,
  loadClientConfigProfile,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';

/** A value and the setting that gave it, e.g. "TEMPORAL_TLS_CLIENT_KEY_PATH". */
export interface Sourced<T> {
  value: T;
  setting: string;
}

export interface TemporalTlsSettings {
  /** What switched TLS on (a tls table, TEMPORAL_TLS, an API key...). */
  enabledBy: string;
  serverName?: Sourced<string>;
  serverCaCert?: Sourced<ConfigDataSource>;
  clientCert?: Sourced<ConfigDataSource>;
  clientKey?: Sourced<ConfigDataSource>;
}

export interface TemporalSettings {
  /** Profile, then temporal.address, then TEMPORAL_ADDRESS; default 127.0.0.1:7233. */
  address: string;
  /** Profile, then temporal.namespace, then TEMPORAL_NAMESPACE; default "default". */
  namespace: string;
  /** temporal.uiUrl, else http://<address host>:8233. */
  uiUrl: string;
  /** The setting that gave the address ("default" when none did). */
  addressSetting: string;
  /** Absent: a plain connection. */
  tls?: TemporalTlsSettings;
  apiKey?: Sourced<ConfigDataSource>;
  /** Extra gRPC headers (profile grpc_meta, TEMPORAL_GRPC_META_*). */
  grpcMeta?: Record<string, string>;
  /** The temporal.toml profile used, if any. */
  profile?: { name: string; file: string };
}

type Field = 'address' | 'namespace' | 'apiKey' | 'tls' | 'serverName' | 'serverCaCert' | 'clientCert' | 'clientKey';
type DataKind = 'path' | 'data';

/** One layer of settings and how it names each of them. */
interface Layer {
  profile: ClientConfigProfile;
  /** The inventory gives the API key as a file only. */
  apiKeyFile?: string;
  setting(field: Field, kind?: DataKind): string;
}

const tomlKeys: Record<Field, string> = {
  address: 'address',
  namespace: 'namespace',
  apiKey: 'api_key',
  tls: 'tls',
  serverName: 'tls.server_name',
  serverCaCert: 'tls.server_ca_cert',
  clientCert: 'tls.client_cert',
  clientKey: 'tls.client_key',
};
const envNames: Record<Field, string> = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  apiKey: 'TEMPORAL_API_KEY',
  tls: 'TEMPORAL_TLS',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  serverCaCert: 'TEMPORAL_TLS_SERVER_CA_CERT',
  clientCert: 'TEMPORAL_TLS_CLIENT_CERT',
  clientKey: 'TEMPORAL_TLS_CLIENT_KEY',
};
const inventoryNames: Record<Field, string> = {
  address: 'temporal.address',
  namespace: 'temporal.namespace',
  apiKey: 'temporal.apiKeyFile',
  tls: 'temporal.tls',
  serverName: 'temporal.tls.serverName',
  serverCaCert: 'temporal.tls.serverCaCertFile',
  clientCert: 'temporal.tls.clientCertFile',
  clientKey: 'temporal.tls.clientKeyFile',
};
const fileFields = new Set<Field>(['serverCaCert', 'clientCert', 'clientKey']);

/** temporal.toml: $TEMPORAL_CONFIG_FILE, else temporal.configFile, else the Temporal CLI's default. */
function configFilePath(inventory: Inventory, env: NodeJS.ProcessEnv): { path: string; setting?: string } {
  if (env.TEMPORAL_CONFIG_FILE) return { path: env.TEMPORAL_CONFIG_FILE, setting: 'TEMPORAL_CONFIG_FILE' };
  if (inventory.temporal?.configFile) return { path: inventory.temporal.configFile, setting: 'temporal.configFile' };
  const configHome = env.XDG_CONFIG_HOME?.startsWith('/')
    ? env.XDG_CONFIG_HOME
    : join(env.HOME ?? homedir(), '.config');
  return { path: join(configHome, 'temporalio', 'temporal.toml') };
}

/** The temporal.toml layer: the named profile (an error when it or its file is missing), else "default" if present. */
function profileLayer(
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
): { layer?: Layer; profile?: TemporalSettings['profile'] } {
  const file = configFilePath(inventory, env);
  const named = inventory.temporal?.profile
    ? { name: inventory.temporal.profile, setting: 'temporal.profile' }
    : env.TEMPORAL_PROFILE
      ? { name: env.TEMPORAL_PROFILE, setting: 'TEMPORAL_PROFILE' }
      : undefined;
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No file at the default place and no profile asked for: the inventory and the environment say it all.
    if (code === 'ENOENT' && !file.setting && !named) return {};
    const why = named ? `${named.setting} names profile "${named.name}" but ` : '';
    throw new TidemarkError(
      'CONFIG_INVALID',
      `${file.setting ?? 'temporal.toml'}: ${why}${file.path} cannot be read (${code ?? (error as Error).message}); fix the path or write the file (see "temporal config set")`,
    );
  }
  let profiles: Record<string, ClientConfigProfile>;
  try {
    profiles = loadClientConfig({ configSource: { data: text } }).profiles;
  } catch (error) {
    throw new TidemarkError(
      'CONFIG_INVALID',
      `${file.path}: not a valid temporal.toml (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const name = named?.name ?? 'default';
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (!profile) {
    if (!named) return {};
    const known = Object.keys(profiles);
    throw new TidemarkError(
      'CONFIG_INVALID',
      `${named.setting}: ${file.path} has no profile "${name}" (${known.length > 0 ? `profiles: ${known.join(', ')}` : 'it has none'}); add [profile.${name}] or name another`,
    );
  }
  return {
    layer: {
      profile,
      setting: (field, kind) =>
        `profile.${name}.${tomlKeys[field]}${fileFields.has(field) ? `_${kind ?? 'path'}` : ''} in ${file.path}`,
    },
    profile: { name, file: file.path },
  };
}

/** The inventory's own settings, in the SDK's profile shape (secrets and certificates by path only). */
function inventoryLayer(inventory: Inventory): Layer {
  const section = inventory.temporal ?? {};
  const tls = section.tls;
  const path = (file: string | undefined) => (file ? { path: file } : undefined);
  const profile: ClientConfigProfile = {
    ...(section.address ? { address: section.address } : {}),
    ...(section.namespace ? { namespace: section.namespace } : {}),
    ...(tls
      ? {
          tls: dropUndefined({
            disabled: tls.disabled,
            serverName: tls.serverName,
            serverCACert: path(tls.serverCaCertFile),
            clientCert: path(tls.clientCertFile),
            clientKey: path(tls.clientKeyFile),
          }),
        }
      : {}),
  };
  return {
    profile,
    ...(section.apiKeyFile ? { apiKeyFile: section.apiKeyFile } : {}),
    setting: (field) => inventoryNames[field],
  };
}

/** The standard TEMPORAL_* variables, parsed by the SDK's own reader. */
function environmentLayer(env: NodeJS.ProcessEnv): Layer {
  const profile = loadClientConfigProfile({
    disableFile: true,
    overrideEnvVars: dropUndefined({ ...env }) as Record<string, string>,
  });
  return {
    profile,
    setting: (field, kind) => `${envNames[field]}${fileFields.has(field) ? `_${(kind ?? 'path').toUpperCase()}` : ''}`,
  };
}

function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

const kindOf = (source: ConfigDataSource): DataKind => ('path' in source ? 'path' : 'data');

/** Temporal connection settings from temporal.toml, the inventory and the environment (reads no secrets). */
export function resolveTemporal(inventory: Inventory, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const fromProfile = profileLayer(inventory, env);
  const layers = [fromProfile.layer, inventoryLayer(inventory), environmentLayer(env)].filter(
    (layer): layer is Layer => layer !== undefined,
  );

  let address: Sourced<string> = { value: '127.0.0.1:7233', setting: 'default' };
  let namespace = 'default';
  let apiKey: Sourced<ConfigDataSource> | undefined;
  let tls: (TemporalTlsSettings & { disabled?: Sourced<boolean> }) | undefined;
  let grpcMeta: Record<string, string> | undefined;
  for (const { profile, apiKeyFile, setting } of layers) {
    if (profile.address) address = { value: profile.address, setting: setting('address') };
    if (profile.namespace) namespace = profile.namespace;
    if (profile.grpcMeta) grpcMeta = { ...grpcMeta, ...profile.grpcMeta };
    if (profile.apiKey !== undefined) apiKey = { value: { data: profile.apiKey }, setting: setting('apiKey') };
    if (apiKeyFile) apiKey = { value: { path: apiKeyFile }, setting: setting('apiKey') };
    const layerTls = profile.tls;
    if (!layerTls) continue;
    tls = { ...tls, enabledBy: tls?.enabledBy ?? setting('tls') };
    if (layerTls.disabled !== undefined) tls.disabled = { value: layerTls.disabled, setting: setting('tls') };
    if (layerTls.serverName) tls.serverName = { value: layerTls.serverName, setting: setting('serverName') };
    if (layerTls.serverCACert)
      tls.serverCaCert = {
        value: layerTls.serverCACert,
        setting: setting('serverCaCert', kindOf(layerTls.serverCACert)),
      };
    if (layerTls.clientCert)
      tls.clientCert = { value: layerTls.clientCert, setting: setting('clientCert', kindOf(layerTls.clientCert)) };
    if (layerTls.clientKey)
      tls.clientKey = { value: layerTls.clientKey, setting: setting('clientKey', kindOf(layerTls.clientKey)) };
  }

  // As in the SDK: an explicit "disabled" wins, else a tls table or an API key means TLS.
  let resolvedTls: TemporalTlsSettings | undefined;
  if (tls && tls.disabled?.value !== true) {
    const { disabled, ...rest } = tls;
    resolvedTls = disabled ? { ...rest, enabledBy: disabled.setting } : rest;
  } else if (!tls && apiKey) {
    resolvedTls = { enabledBy: apiKey.setting };
  }
  if (resolvedTls && (resolvedTls.clientCert === undefined) !== (resolvedTls.clientKey === undefined)) {
    const [given, missing] = resolvedTls.clientCert
      ? [resolvedTls.clientCert.setting, 'its key']
      : [resolvedTls.clientKey!.setting, 'its certificate'];
    throw new TidemarkError(
      'CONFIG_INVALID',
      `${given}: a client certificate needs ${missing} too (temporal.tls.clientCertFile and clientKeyFile, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)`,
    );
  }

  const uiUrl = inventory.temporal?.uiUrl ?? `http://${address.value.replace(/:\d+$/, '')}:8233`;
  return {
    address: address.value,
    namespace,
    uiUrl: uiUrl.replace(/\/$/, ''),
    addressSetting: address.setting,
    ...(resolvedTls ? { tls: resolvedTls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(grpcMeta && Object.keys(grpcMeta).length > 0 ? { grpcMeta } : {}),
    ...(fromProfile.profile ? { profile: fromProfile.profile } : {}),
  };
}

/** One line for `config check` and connection errors: where, how, and from which settings. */
export function describeConnection(settings: TemporalSettings): string {
  const parts = [`${settings.address} (${settings.addressSetting})`];
  if (settings.profile) parts.push(`profile ${settings.profile.name} of ${settings.profile.file}`);
  const tls = settings.tls;
  if (!tls) parts.push('without TLS');
  else {
    const details = [
      tls.serverCaCert ? `server CA from ${tls.serverCaCert.setting}` : "the system's trusted CAs",
      tls.clientCert ? `client certificate from ${tls.clientCert.setting}` : 'no client certificate',
      ...(tls.serverName ? [`server name ${tls.serverName.value}`] : []),
    ];
    parts.push(`TLS (${details.join(', ')})`);
  }
  if (settings.apiKey) parts.push(`API key from ${settings.apiKey.setting}`);
  return parts.join(', ');
}
