// A NetBox stand-in on 127.0.0.1: tags, devices and virtual machines as the REST API shapes them, paged
// with absolute `next` links naming another origin (as NetBox behind a proxy does), token-checked.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeObject {
  id: number;
  name: string | null;
  primary_ip?: { address: string } | null;
  primary_ip4?: { address: string } | null;
  primary_ip6?: { address: string } | null;
  tags: Array<{ name: string; slug: string }>;
  custom_fields?: Record<string, unknown>;
}

export interface FakeNetbox {
  url: string;
  token: string;
  devices: FakeObject[];
  machines: FakeObject[];
  tags: Array<{ id: number; name: string; slug: string }>;
  /** ok; "error" answers 500; "hang" never answers. */
  mode: 'ok' | 'error' | 'hang';
  /** Objects per page (NetBox's own limit wins over ?limit=). */
  pageSize: number;
  /** An old NetBox or a proxy that drops ?tag=: everything is returned. */
  ignoreTagFilter: boolean;
  requests: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export const backupTag = { name: 'Backup', slug: 'backup' };

export async function startFakeNetbox(token: string): Promise<FakeNetbox> {
  const hanging = new Set<ServerResponse>();
  const fake: Omit<FakeNetbox, 'url' | 'close'> = {
    token,
    devices: [],
    machines: [],
    tags: [
      { id: 1, ...backupTag },
      { id: 2, name: 'Other', slug: 'other' },
    ],
    mode: 'ok',
    pageSize: 2,
    ignoreTagFilter: false,
    requests: [],
  };
  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    fake.requests.push({ path: `${url.pathname}${url.search}`, authorization: request.headers.authorization });
    if (fake.mode === 'hang') {
      hanging.add(response);
      return;
    }
    if (request.headers.authorization !== `Token ${fake.token}`)
      return send(response, 401, { detail: 'Invalid token' });
    if (fake.mode === 'error')
      return send(response, 500, { error: 'database is locked', exception: 'OperationalError' });
    if (url.pathname === '/api/extras/tags/') {
      const name = url.searchParams.get('name');
      const slug = url.searchParams.get('slug');
      const results = fake.tags.filter(
        (tag) => (name === null || tag.name === name) && (slug === null || tag.slug === slug),
      );
      return send(response, 200, { count: results.length, next: null, previous: null, results });
    }
    const list =
      url.pathname === '/api/dcim/devices/'
        ? fake.devices
        : url.pathname === '/api/virtualization/virtual-machines/'
          ? fake.machines
          : undefined;
    if (!list) return send(response, 404, { detail: 'Not found.' });
    const tag = url.searchParams.get('tag');
    const selected =
      fake.ignoreTagFilter || tag === null ? list : list.filter((object) => object.tags.some((t) => t.slug === tag));
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const page = selected.slice(offset, offset + fake.pageSize);
    const nextUrl = new URL(`http://netbox.internal.example:8080${url.pathname}`);
    for (const [key, value] of url.searchParams) nextUrl.searchParams.set(key, value);
    nextUrl.searchParams.set('offset', String(offset + fake.pageSize));
    return send(response, 200, {
      count: selected.length,
      next: offset + fake.pageSize < selected.length ? nextUrl.href : null,
      previous: null,
      results: page,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
