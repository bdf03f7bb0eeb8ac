// Zabbix trapper items through the sender protocol: "ZBXD\x01", the JSON length as 8 bytes little-endian,
// then {"request":"sender data","data":[{host,key,value,clock,ns}]}; the server answers the same framing with
// {"response":"success","info":"processed: 5; failed: 0; total: 5; ..."}.
//
// Where the items live (deploy/zabbix/tidemark-template.yaml): on the backed-up host, one set per backup
// server, the server as the key's parameter. Each notification sends the host's low-level discovery value
// tidemark.discovery = {"data":[{"{#SERVER}":"<server>"}]} with the values:
//   tidemark.status[<server>] (0 ok, 1 warning, 2 failed), tidemark.last_success[<server>] (Unix time; on
//   SUCCESS only), tidemark.bytes[<server>], tidemark.files[<server>], tidemark.duration[<server>] (seconds),
//   tidemark.message[<server>] (text).
// A restore drill sends the same discovery value and its own items beside them:
//   tidemark.drill.status[<server>] (0 passed, 1 warning, 2 failed), tidemark.drill.last_success[<server>] (Unix time;
//   on SUCCESS only), tidemark.drill.verified[<server>], tidemark.drill.mismatched[<server>] (files),
//   tidemark.drill.message[<server>] (text).
// Every item carries the run's own finish time as clock/ns, so a retried delivery keeps the run's time, and
// Zabbix skips a value it already holds at that clock/ns: sending again is harmless.
//
// The answer counts refused items (unknown host or key, disabled item, sender not allowed) without naming
// them: when any is refused, each item is sent again on its own to name them. A value of the wrong type is
// accepted by the trapper and only later marks the item unsupported; with `apiUrl` the items are read
// back through the API to catch that too (notify/zabbix-api.ts).
import { connect } from 'node:net';
import type { BackupSummary } from '../domain/backup.js';
import type { DrillOutcome } from '../domain/drill.js';
import { statusCode } from '../domain/notify.js';
import { drillStatusLine, statusLine } from './format.js';
import type { ZabbixTarget } from '../inventory/notify-schema.js';
import { fillTemplate } from './targets.js';
import { unconfirmedItems } from './zabbix-api.js';

export interface ZabbixItem {
  host: string;
  key: string;
  value: string;
  /** Unix seconds and nanoseconds the value belongs to (the run's finish). */
  clock?: number;
  ns?: number;
}

/** The discovery key of the template's rule. */
export const discoveryKey = 'tidemark.discovery';

/** The item maker of one target and pair: the Zabbix host, the discovery value, all stamped with `finishedAt`. */
function itemsFor(target: Pick<ZabbixTarget, 'host'>, names: { host: string; server: string }, finishedAt: Date) {
  const host = fillTemplate(target.host ?? '{host}', names);
  const ms = finishedAt.getTime();
  const clock = Math.floor(ms / 1000);
  const stamp = { clock, ns: (ms - clock * 1000) * 1_000_000 };
  const item = (name: string, value: string | number): ZabbixItem => ({
    host,
    key: `tidemark.${name}[${names.server}]`,
    value: String(value),
    ...stamp,
  });
  const discovery: ZabbixItem = {
    host,
    key: discoveryKey,
    value: JSON.stringify({ data: [{ '{#SERVER}': names.server }] }),
    ...stamp,
  };
  return { item, discovery, clock };
}

/** The discovery value and the run's values for one target, all stamped with `finishedAt`. */
export function zabbixItems(
  target: Pick<ZabbixTarget, 'host'>,
  summary: BackupSummary,
  finishedAt: Date,
): ZabbixItem[] {
  const { item, discovery, clock } = itemsFor(target, summary, finishedAt);
  return [
    discovery,
    item('status', statusCode(summary.status)),
    ...(summary.status === 'SUCCESS' ? [item('last_success', clock)] : []),
    item('bytes', summary.bytesTransferred),
    item('files', summary.filesTransferred),
    item('duration', Math.round(summary.durationMs / 1000)),
    item('message', statusLine(summary)),
  ];
}

/** The discovery value and a restore drill's values (tidemark.drill.*), stamped with the drill's finish. */
export function zabbixDrillItems(
  target: Pick<ZabbixTarget, 'host'>,
  drill: DrillOutcome,
  finishedAt: Date,
): ZabbixItem[] {
  const { item, discovery, clock } = itemsFor(target, drill, finishedAt);
  return [
    discovery,
    item('drill.status', statusCode(drill.status)),
    ...(drill.status === 'SUCCESS' ? [item('drill.last_success', clock)] : []),
    item('drill.verified', drill.verified),
    item('drill.mismatched', drill.mismatched),
    item('drill.message', drillStatusLine(drill)),
  ];
}

/** One sender-protocol frame around a JSON payload. */
export function zabbixFrame(payload: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  const header = Buffer.alloc(13);
  header.write('ZBXD', 0, 'ascii');
  header.writeUInt8(1, 4);
  header.writeBigUInt64LE(BigInt(json.length), 5);
  return Buffer.concat([header, json]);
}

/** The JSON inside a complete frame, or undefined while more bytes are needed. Throws on a bad header. */
export function parseZabbixFrame(data: Buffer): unknown {
  if (data.length < 13) return undefined;
  if (data.toString('ascii', 0, 4) !== 'ZBXD') throw new Error('not a Zabbix protocol answer (no ZBXD header)');
  if ((data.readUInt8(4) & 0x02) !== 0) throw new Error('compressed Zabbix answers are not supported');
  const length = Number(data.readBigUInt64LE(5));
  if (data.length < 13 + length) return undefined;
  return JSON.parse(data.toString('utf8', 13, 13 + length));
}

/** Counts from the server's "processed: 5; failed: 0; total: 5" line. */
export function parseSenderInfo(info: string): { processed: number; failed: number; total: number } | undefined {
  const match = /processed:\s*(\d+);\s*failed:\s*(\d+);\s*total:\s*(\d+)/.exec(info);
  return match ? { processed: Number(match[1]), failed: Number(match[2]), total: Number(match[3]) } : undefined;
}

/** Sends items and returns the server's answer. */
export async function zabbixSend(
  server: string,
  port: number,
  items: ZabbixItem[],
  timeoutMs = 15_000,
): Promise<{ response?: string; info?: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const fail = (error: Error) => {
      socket.destroy();
      if (!settled) reject(new Error(`Zabbix ${server}:${port}: ${error.message}`));
      settled = true;
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    // No request-level clock: with one, Zabbix would shift the items' own clocks by the clock difference.
    socket.once('connect', () => socket.write(zabbixFrame({ request: 'sender data', data: items })));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const answer = parseZabbixFrame(received);
        if (answer === undefined) return;
        settled = true;
        socket.end();
        resolve(answer as { response?: string; info?: string });
      } catch (error) {
        fail(error as Error);
      }
    });
    socket.once('end', () => fail(new Error('connection closed before a complete answer')));
  });
}

/** How many of `items` the server refused; throws when it did not answer "success" with counts. */
async function refusedCount(
  server: string,
  port: number,
  items: ZabbixItem[],
): Promise<{ failed: number; info: string }> {
  const answer = await zabbixSend(server, port, items);
  const counts = answer.response === 'success' ? parseSenderInfo(answer.info ?? '') : undefined;
  if (!counts) throw new Error(`Zabbix ${server}:${port} answered ${JSON.stringify(answer).slice(0, 200)}`);
  return { failed: counts.failed, info: answer.info ?? '' };
}

/** Sends the run's items; throws naming every item Zabbix refused (retried: the values keep their clock). */
export function sendZabbix(target: ZabbixTarget, summary: BackupSummary, finishedAt: Date): Promise<string> {
  return deliverItems(target, zabbixItems(target, summary, finishedAt));
}

/** Sends a restore drill's items, as sendZabbix does a run's. */
export function sendZabbixDrill(target: ZabbixTarget, drill: DrillOutcome, finishedAt: Date): Promise<string> {
  return deliverItems(target, zabbixDrillItems(target, drill, finishedAt));
}

/** Sends the items (the discovery value first); throws naming every item Zabbix refused or did not store. */
async function deliverItems(target: ZabbixTarget, items: ZabbixItem[]): Promise<string> {
  const port = target.port ?? 10051;
  const where = `Zabbix ${target.server}:${port}`;
  const host = items[0]!.host;
  const first = await refusedCount(target.server, port, items);
  if (first.failed > 0) {
    // Which ones: each alone (values already stored at this clock are skipped by Zabbix).
    const refused: string[] = [];
    for (const item of items) if ((await refusedCount(target.server, port, [item])).failed > 0) refused.push(item.key);
    const discoveryRefused = refused.includes(discoveryKey);
    throw new Error(
      `${where} refused ${refused.length || first.failed} of ${items.length} items for host "${host}": ` +
        `${refused.join(', ') || '(none when sent one by one: retrying)'}; ` +
        (discoveryRefused
          ? `link the template "Tidemark backup" (deploy/zabbix/tidemark-template.yaml) to host "${host}"`
          : `the template's discovery creates them; Zabbix accepts them once its configuration cache is reloaded (CacheUpdateFrequency)`) +
        ` and allow this server in the items' "Allowed hosts"`,
    );
  }
  if (target.apiUrl && target.apiTokenFile) {
    const values = items.filter((item) => item.key !== discoveryKey);
    const unconfirmed = await unconfirmedItems(
      { url: target.apiUrl, tokenFile: target.apiTokenFile },
      host,
      values.map((item) => item.key),
      items[0]!.clock!,
    );
    if (unconfirmed.length > 0)
      throw new Error(
        `${where} accepted but did not store ${unconfirmed.length} of ${values.length} items for host "${host}": ` +
          unconfirmed.map(({ key, reason }) => `${key} (${reason})`).join('; ') +
          '; give them the type of the template (deploy/zabbix/tidemark-template.yaml)',
      );
  }
  return `${items.length} items to ${target.server}:${port} (${first.info})`;
}
