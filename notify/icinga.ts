// Icinga 2: a passive check result through the REST API (POST /v1/actions/process-check-result).
// SOWN's contract: host = the inventory host, service = BACKUP-<backup server>; here failures are sent
// too (CRITICAL), not left to staleness. A restore drill reports to its own service of the host,
// RESTORE-DRILL-<backup server> by default, so a failed drill never hides a good backup or the reverse.
import type { BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import { statusCode } from '../domain/notify.js';
import { drillPerformanceData, drillStatusLine, performanceData, statusLine } from './format.js';
import { httpRequest, readSecret, redactUrl, redactUrls } from './http.js';
import type { IcingaTarget } from '../inventory/notify-schema.js';
import { fillTemplate, PermanentNotifyError } from './targets.js';

export interface IcingaCheckResult {
  type: 'Service';
  filter: string;
  filter_vars: { tidemark_host: string; tidemark_service: string };
  exit_status: 0 | 1 | 2;
  plugin_output: string;
  performance_data: string[];
  check_source: string;
}

/** Icinga host and service names for a run (or, with `kind` "drill", a restore drill), from the target's templates. */
export function icingaObject(
  target: Pick<IcingaTarget, 'host' | 'service' | 'drillService'>,
  summary: Pick<BackupSummary, 'host' | 'server'>,
  kind: 'backup' | 'drill' = 'backup',
): { host: string; service: string } {
  const values = { host: summary.host, server: summary.server };
  const service =
    kind === 'drill' ? (target.drillService ?? 'RESTORE-DRILL-{server}') : (target.service ?? 'BACKUP-{server}');
  return { host: fillTemplate(target.host ?? '{host}', values), service: fillTemplate(service, values) };
}

/** The request body; names go through filter_vars, never pasted into the filter expression. */
function checkResult(
  object: { host: string; service: string },
  status: BackupSummary['status'],
  output: string,
  performance: string[],
  server: string,
): IcingaCheckResult {
  return {
    type: 'Service',
    filter: 'host.name==tidemark_host && service.name==tidemark_service',
    filter_vars: { tidemark_host: object.host, tidemark_service: object.service },
    exit_status: statusCode(status),
    plugin_output: output,
    performance_data: performance,
    check_source: server,
  };
}

/** A backup's check result. */
export function icingaPayload(
  target: Pick<IcingaTarget, 'host' | 'service'>,
  summary: BackupSummary,
): IcingaCheckResult {
  return checkResult(
    icingaObject(target, summary),
    summary.status,
    statusLine(summary),
    performanceData(summary),
    summary.server,
  );
}

/** A restore drill's check result, for the drill service. */
export function icingaDrillPayload(
  target: Pick<IcingaTarget, 'host' | 'service' | 'drillService'>,
  drill: DrillOutcome,
): IcingaCheckResult {
  const object = icingaObject(target, drill, 'drill');
  return checkResult(object, drill.status, drillStatusLine(drill), drillPerformanceData(drill), drill.server);
}

export function sendIcinga(target: IcingaTarget, summary: BackupSummary): Promise<string> {
  return postCheckResult(target, icingaPayload(target, summary));
}

export function sendIcingaDrill(target: IcingaTarget, drill: DrillOutcome): Promise<string> {
  return postCheckResult(target, icingaDrillPayload(target, drill));
}

/** Posts one check result; answers what was sent, e.g. "CRITICAL to vpn!BACKUP-b1". */
async function postCheckResult(target: IcingaTarget, payload: IcingaCheckResult): Promise<string> {
  const password = await readSecret(target.passwordFile, 'Icinga password');
  const object = `${payload.filter_vars.tidemark_host}!${payload.filter_vars.tidemark_service}`;
  const response = await httpRequest({
    method: 'POST',
    url: `${target.url.replace(/\/$/, '')}/v1/actions/process-check-result`,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${target.user}:${password}`).toString('base64')}`,
    },
    body: JSON.stringify(payload),
    ...(target.caFile ? { caFile: target.caFile } : {}),
    ...(target.tlsServerName ? { tlsServerName: target.tlsServerName } : {}),
  });
  const results = parseResults(response.body);
  if (response.status === 401 || response.status === 403) {
    throw new PermanentNotifyError(
      `Icinga API ${redactUrl(target.url)} refused user "${target.user}" (HTTP ${response.status}); check the ApiUser, its password file and its permission actions/process-check-result`,
    );
  }
  // Icinga answers an empty result list (HTTP 404 or 500, by version) when no object matches the filter.
  if (results !== undefined && results.length === 0) {
    throw new PermanentNotifyError(
      `Icinga has no service "${object}": define a passive service ${payload.filter_vars.tidemark_service} on host ${payload.filter_vars.tidemark_host}`,
    );
  }
  if (response.status >= 300 || !results || results.some((result) => result.code !== 200)) {
    throw new Error(
      `Icinga API ${redactUrl(target.url)} answered HTTP ${response.status}: ${redactUrls(response.body.slice(0, 300))}`,
    );
  }
  return `${['OK', 'WARNING', 'CRITICAL'][payload.exit_status]} to ${object}`;
}

function parseResults(body: string): { code: number; status?: string }[] | undefined {
  try {
    const parsed = JSON.parse(body) as { results?: { code: number; status?: string }[] };
    return Array.isArray(parsed.results) ? parsed.results : undefined;
  } catch {
    return undefined;
  }
}
