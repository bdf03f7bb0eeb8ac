// `tidemark temporal setup`: registers Tidemark's search attributes in the namespace, once per namespace
// (production, the demo and the test suite alike). Safe to run again: present attributes are left alone.
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import {
  encodeSearchAttributeIndexedValueType as encodeType,
  _ as decodeType,
} from '@temporalio/common/lib/search-attributes.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { tidemarkSearchAttributes } from '../domain/search-attributes.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveTemporal } from '../temporal/settings.js';
import { connectClient } from '../temporal/connection.js';

const grpcAlreadyExists = 6;

export interface SetupReport {
  namespace: string;
  added: string[];
  present: string[];
}

/** Adds the missing attributes; refuses (naming it) an attribute that exists with another type. */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<SetupReport> {
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const report: SetupReport = { namespace, added: [], present: [] };
  const missing: Record<string, NonNullable<ReturnType<typeof encodeType>>> = {};
  for (const key of tidemarkSearchAttributes) {
    const type = existing[key.name];
    if (type === undefined || type === null) {
      missing[key.name] = encodeType(key.type)!;
    } else if (decodeType(type) !== key.type) {
      throw new TidemarkError(
        'USAGE',
        `search attribute ${key.name} exists in namespace "${namespace}" as ${decodeType(type) ?? type}, Tidemark needs ${key.type}; remove it (temporal operator search-attribute remove --name ${key.name}) and run "tidemark temporal setup" again`,
      );
    } else {
      report.present.push(key.name);
    }
  }
  if (Object.keys(missing).length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (error) {
      // Another setup (a second backup server) registered them meanwhile: that is what we wanted.
      if (!(isGrpcServiceError(error) && error.code === grpcAlreadyExists)) throw error;
    }
    report.added.push(...Object.keys(missing));
  }
  return report;
}

/** Starting a run with attributes Temporal does not know fails; say which command fixes that. */
export function explainMissingSearchAttributes(error: unknown): unknown {
  // The SDK's "Failed to start Workflow" wraps the gRPC error that says which attribute is missing.
  let cause: unknown = error;
  while (cause instanceof Error && !/search attribute/i.test(cause.message) && cause.cause) cause = cause.cause;
  const message = cause instanceof Error ? ((cause as { details?: string }).details ?? cause.message) : String(cause);
  if (!/search attribute/i.test(message) || !/Tidemark/.test(message)) return error;
  return new TidemarkError(
    'USAGE',
    `Temporal does not know Tidemark's search attributes (${message}); run "tidemark temporal setup" once for this namespace`,
  );
}

/** The verb: prints what it did; exit 0 when all four attributes are registered afterwards. */
export async function temporalSetup(inventory: Inventory, options: { json: boolean }): Promise<ExitCode> {
  const settings = resolveTemporal(inventory);
  const client = await connectClient(settings);
  try {
    const report = await ensureSearchAttributes(client.connection, settings.namespace);
    if (options.json) console.log(JSON.stringify(report));
    else {
      for (const name of report.added) console.log(`added search attribute ${name}`);
      for (const name of report.present) console.log(`search attribute ${name} already registered`);
      console.log(`namespace "${settings.namespace}" on ${settings.address} is ready for Tidemark`);
    }
    return ExitCode.ok;
  } finally {
    await client.connection.close();
  }
}
