// Reads trapper items back through the Zabbix API (JSON-RPC, API token in "auth" as Zabbix 6.0 takes it):
// the trapper accepts a value of the wrong type and only its preprocessing later marks the item
// unsupported, so only the item's own state tells whether the value was stored.
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest, readSecret, redactUrl } from './http.js';
import { PermanentNotifyError } from './targets.js';

export interface ZabbixApi {
  /** .../api_jsonrpc.php */
  url: string;
  tokenFile: string;
}

interface ItemState {
  key_: string;
  state: string;
  error: string;
  lastclock: string;
}

/** One API call; throws naming the method and Zabbix's error. */
export async function zabbixApiCall<T>(api: ZabbixApi, method: string, params: unknown, auth?: string): Promise<T> {
  const response = await httpRequest({
    method: 'POST',
    url: api.url,
    headers: { 'content-type': 'application/json-rpc' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1, ...(auth ? { auth } : {}) }),
  });
  let answer: { result?: T; error?: { message?: string; data?: string } };
  try {
    answer = JSON.parse(response.body) as typeof answer;
  } catch {
    throw new Error(`Zabbix API ${redactUrl(api.url)} ${method}: HTTP ${response.status}, not JSON-RPC`);
  }
  if (answer.error) {
    const text = `Zabbix API ${redactUrl(api.url)} ${method}: ${answer.error.message ?? ''} ${answer.error.data ?? ''}`;
    // A refused token stays refused.
    if (/not authori[sz]ed|session terminated|invalid.*token/i.test(text)) throw new PermanentNotifyError(text);
    throw new Error(text);
  }
  return answer.result as T;
}

/**
 * The items of `host` among `keys` that did not store a value at `clock` or later within `timeoutMs`:
 * unsupported ones with Zabbix's reason, missing ones, and ones still without the value.
 */
export async function unconfirmedItems(
  api: ZabbixApi,
  host: string,
  keys: string[],
  clock: number,
  timeoutMs = 10_000,
): Promise<Array<{ key: string; reason: string }>> {
  const token = await readSecret(api.tokenFile, 'Zabbix API token');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await zabbixApiCall<ItemState[]>(
      api,
      'item.get',
      { output: ['key_', 'state', 'error', 'lastclock'], host, filter: { key_: keys } },
      token,
    );
    const byKey = new Map(items.map((item) => [item.key_, item]));
    const problems = keys.flatMap((key) => {
      const item = byKey.get(key);
      if (!item) return [{ key, reason: `no such item on host "${host}"`, final: true }];
      if (item.state === '1') return [{ key, reason: `unsupported: ${item.error}`, final: true }];
      if (Number(item.lastclock) >= clock) return [];
      return [{ key, reason: `no value at the run's time after ${timeoutMs / 1000} s`, final: false }];
    });
    if (problems.every((problem) => problem.final) || Date.now() >= deadline)
      return problems.map(({ key, reason }) => ({ key, reason }));
    await sleep(500);
  }
}
