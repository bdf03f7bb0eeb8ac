// Connecting the CLI to Temporal, with an error that says where it looked.
import { Client, Connection } from '@temporalio/client';
import { TidemarkError } from '../domain/errors.js';
import type { TemporalSettings } from '../inventory/resolve.js';

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: settings.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: settings.namespace });
  } catch (error) {
    throw new TidemarkError(
      'TEMPORAL_UNAVAILABLE',
      `cannot reach Temporal at ${settings.address} (${(error as Error).message}); set temporal.address in the inventory or TEMPORAL_ADDRESS`,
    );
  }
}

/** The Web UI page of one run. */
export function runUrl(settings: TemporalSettings, workflowId: string, runId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
