// Zabbix trapper items through the sender protocol: "ZBXD\x01", the JSON length as 8 bytes little-endian,
// then {"request":"sender data","data":[{host,key,value}]}; the server answers the same framing with
// {"response":"success","info":"processed: 5; failed: 0; total: 5; ..."}.
// Items (type "Zabbix trapper") per backup server: tidemark.status[<server>] (0 ok, 1 warning, 2 failed),
// tidemark.last_success[<server>] (Unix time; sent on SUCCESS only), tidemark.bytes[<server>],
// tidemark.files[<server>], tidemark.duration[<server>] (seconds), tidemark.message[<server>] (text).
// `tidemark hosts --zabbix` prints the low-level discovery data for {#HOST} and {#SERVER}.
import { connect } from 'node:net';
import type { BackupSummary } from '../domain/backup.js';
import { statusCode } from '../domain/notify.js';
import { statusLine } from './format.js';
import type { ZabbixTarget } from '../inventory/notify-schema.js';
import { fillTemplate, PermanentNotifyError } from './targets.js';

export interface ZabbixItem {
  host: string;
  key: string;
  value: string;
}

export function zabbixItems(
  target: Pick<ZabbixTarget, 'host'>,
  summary: BackupSummary,
  finishedAt: Date,
): ZabbixItem[] {
  const host = fillTemplate(target.host ?? '{host}', summary);
  const item = (name: string, value: string | number): ZabbixItem => ({
    host,
    key: `tidemark.${name}[${summary.server}]`,
    value: String(value),
  });
  return [
    item('status', statusCode(summary.status)),
    ...(summary.status === 'SUCCESS' ? [item('last_success', Math.floor(finishedAt.getTime() / 1000))] : []),
    item('bytes', summary.bytesTransferred),
    item('files', summary.filesTransferred),
    item('duration', Math.round(summary.durationMs / 1000)),
    item('message', statusLine(summary)),
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

export async function sendZabbix(target: ZabbixTarget, summary: BackupSummary, finishedAt: Date): Promise<string> {
  const items = zabbixItems(target, summary, finishedAt);
  const port = target.port ?? 10051;
  const answer = await zabbixSend(target.server, port, items);
  if (answer.response !== 'success')
    throw new Error(`Zabbix ${target.server}:${port} answered ${JSON.stringify(answer).slice(0, 200)}`);
  const counts = parseSenderInfo(answer.info ?? '');
  if (counts && counts.failed > 0) {
    throw new PermanentNotifyError(
      `Zabbix ${target.server}:${port} rejected ${counts.failed} of ${counts.total} items for host "${items[0]!.host}": ` +
        `create trapper items ${items.map((item) => item.key).join(', ')} on that host (and allow this server in "Allowed hosts")`,
    );
  }
  return `${items.length} items to ${target.server}:${port} (${answer.info ?? 'no info'})`;
}
