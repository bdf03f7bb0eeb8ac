// Tiny local servers standing in for monitoring systems: an HTTP receiver (webhooks, healthchecks pings),
// an SMTP server and a Zabbix trapper. Loopback only; each records what it was sent.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { parseZabbixFrame, zabbixFrame, type ZabbixItem } from '../../notify/zabbix.js';

export interface ReceivedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Status the receiver answered. */
  status: number;
}

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Status for the next request (default 200); called once per request. */
  respond: (request: Omit<ReceivedRequest, 'status'>) => number;
  close(): Promise<void>;
}

export async function startHttpReceiver(port = 0): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: HttpReceiver = {
    url: '',
    port: 0,
    requests,
    respond: () => 200,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      const status = receiver.respond(request);
      requests.push({ ...request, status });
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(status < 300 ? 'OK' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  receiver.port = (server.address() as { port: number }).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  // Keep-alive sockets would hold close() open.
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpServer {
  port: number;
  mails: ReceivedMail[];
  /** Reply for RCPT TO (default "250 ok"). */
  rcptReply: string;
  close(): Promise<void>;
}

/** Remembers an open connection until it closes, so that close() can cut it. */
function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
}

/** Listens on 127.0.0.1 (a free port); close() cuts open connections first, or it would wait for them. */
async function listenOnLoopback(server: Server, sockets: Set<Socket>): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Speaks just enough SMTP for one client at a time: EHLO, MAIL, RCPT, DATA, QUIT. */
export async function startSmtpServer(): Promise<SmtpServer> {
  const sockets = new Set<Socket>();
  const state: SmtpServer = { port: 0, mails: [], rcptReply: '250 ok', close: async () => undefined };
  const server: Server = createTcpServer((socket) => {
    track(sockets, socket);
    socket.setEncoding('utf8');
    socket.write('220 test-smtp ESMTP\r\n');
    let buffer = '';
    let inData = false;
    let mail: ReceivedMail = { from: '', to: [], data: '' };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mail.data = buffer.slice(0, end + 2);
          buffer = buffer.slice(end + 5);
          inData = false;
          state.mails.push(mail);
          mail = { from: '', to: [], data: '' };
          socket.write('250 2.0.0 queued as TEST1\r\n');
          continue;
        }
        const index = buffer.indexOf('\r\n');
        if (index < 0) return;
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-test-smtp\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n');
        else if (verb === 'HELO') socket.write('250 test-smtp\r\n');
        else if (verb === 'MAIL') {
          mail.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          socket.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          if (state.rcptReply.startsWith('25')) mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          socket.write(`${state.rcptReply}\r\n`);
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.write('221 bye\r\n');
          socket.end();
        } else socket.write('502 unknown\r\n');
      }
    });
  });
  Object.assign(state, await listenOnLoopback(server, sockets));
  return state;
}

export interface ZabbixTrapper {
  port: number;
  /** Items of every sender request, in order. */
  batches: ZabbixItem[][];
  /** Items the trapper reports as failed, per request (default 0). */
  failItems: number;
  close(): Promise<void>;
}

export async function startZabbixTrapper(): Promise<ZabbixTrapper> {
  const sockets = new Set<Socket>();
  const state: ZabbixTrapper = { port: 0, batches: [], failItems: 0, close: async () => undefined };
  const server = createTcpServer((socket) => {
    track(sockets, socket);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const request = parseZabbixFrame(received) as { request: string; data: ZabbixItem[] } | undefined;
      if (!request) return;
      state.batches.push(request.data);
      const failed = Math.min(state.failItems, request.data.length);
      socket.end(
        zabbixFrame({
          response: 'success',
          info: `processed: ${request.data.length - failed}; failed: ${failed}; total: ${request.data.length}; seconds spent: 0.000100`,
        }),
      );
    });
  });
  Object.assign(state, await listenOnLoopback(server, sockets));
  return state;
}

