// A restore request from its options (`tidemark restore`'s, or the web console's form): the one place that
// checks them against the inventory and names the option and the fix (the worker checks again).
import { TidemarkError } from '../domain/errors.js';
import { restoreInputProblems, type RestoreInput } from '../domain/restore.js';
import { resolveHost, resolveServer } from './resolve.js';
import type { Inventory } from './schema.js';

export interface RestoreOptions {
  host: string;
  server?: string;
  snapshot?: string;
  at?: string;
  path?: string[];
  to?: string;
  toHost?: string;
  targetDir?: string;
  dryRun?: boolean;
  wait?: boolean;
  yesOverwriteLiveSystem?: boolean;
  bwlimit?: string;
  specialFiles?: boolean;
  json?: boolean;
  /** Run the restore in this process from the local pool: no Temporal, no worker. */
  offline?: boolean;
}

/** The workflow input from the command line; throws USAGE naming the option and the fix. */
export function restoreInput(inventory: Inventory, options: RestoreOptions): RestoreInput {
  const host = resolveHost(inventory, options.host);
  const server = options.server ?? (host.servers.length === 1 ? host.servers[0] : undefined);
  if (!server)
    throw new TidemarkError(
      'USAGE',
      `--server: ${host.host} is backed up on ${host.servers.join(', ')}; name the one to restore from`,
    );
  resolveServer(inventory, host, server);
  if ((options.to === undefined) === (options.toHost === undefined)) {
    throw new TidemarkError('USAGE', '--to DIR (on the backup server) or --to-host HOST (over ssh): give exactly one');
  }
  if (options.targetDir !== undefined && options.toHost === undefined)
    throw new TidemarkError('USAGE', '--target-dir goes with --to-host; with --to the directory is --to itself');
  if (options.toHost !== undefined) resolveHost(inventory, options.toHost);
  if (options.bwlimit !== undefined && !/^\d+(\.\d+)?[KMGkmg]?$/.test(options.bwlimit))
    throw new TidemarkError('USAGE', `--bwlimit: "${options.bwlimit}" is not a rate; give KiB/s, e.g. 500 or 10M`);
  const input: RestoreInput = {
    host: host.host,
    server,
    ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}),
    ...(options.at !== undefined ? { at: options.at } : {}),
    paths: options.path ?? [],
    to:
      options.to !== undefined
        ? { kind: 'local', dir: options.to }
        : {
            kind: 'host',
            host: options.toHost!,
            ...(options.targetDir !== undefined ? { dir: options.targetDir } : {}),
          },
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.yesOverwriteLiveSystem ? { overwriteLiveSystem: true } : {}),
    ...(options.bwlimit !== undefined ? { bandwidthLimit: options.bwlimit } : {}),
    ...(options.specialFiles ? { specialFiles: true } : {}),
  };
  const problems = restoreInputProblems(input);
  if (problems.length > 0) throw new TidemarkError('USAGE', problems.join('; '));
  return input;
}
