// Tiny local servers standing in for monitoring systems: an HTTP receiver (webhooks, healthchecks pings),
// a real SMTP server (smtp-server) and a Zabbix trapper. Loopback only; each records what it was sent.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
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

/** Remembers an open connection until it closes, so that close() can cut it. */
function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
}

/** Listens on 127.0.0.1 (a free port); close() cuts open connections first, or it would wait for them. */
async function listenOnLoopback(
  server: Server,
  sockets: Set<Socket>,
): Promise<{ port: number; close(): Promise<void> }> {
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

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as received (headers and encoded body, CRLF line ends). */
  data: string;
  /** Subject and text as a mail client shows them (decoded by mailparser). */
  subject: string;
  text: string;
  /** The connection had switched to TLS (STARTTLS) before the message. */
  secure: boolean;
  /** The AUTH user, when the client logged in. */
  user?: string;
}

export interface SmtpServer {
  port: number;
  mails: ReceivedMail[];
  /** Reply for RCPT TO (default "250 ok"); a 5xx or 4xx refuses the recipient. */
  rcptReply: string;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** PEM key and certificate: STARTTLS is offered (and required before AUTH). Default: no STARTTLS. */
  tls?: { key: string; cert: string };
  /** The one login accepted; AUTH is then required before MAIL. Default: no AUTH. */
  auth?: { user: string; password: string };
}

/** A real SMTP server (nodemailer's smtp-server) on 127.0.0.1 that keeps what it was sent. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpServer> {
  const state: SmtpServer = { port: 0, mails: [], rcptReply: '250 ok', close: async () => undefined };
  const server = new SMTPServer({
    name: 'test-smtp',
    logger: false,
    closeTimeout: 100,
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.password)
        callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const code = Number(state.rcptReply.slice(0, 3));
      if (code < 400) callback();
      else callback(Object.assign(new Error(state.rcptReply.slice(4)), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const data = Buffer.concat(chunks).toString('utf8');
        simpleParser(data).then(
          (parsed) => {
            const mailFrom = session.envelope.mailFrom;
            state.mails.push({
              from: mailFrom ? mailFrom.address : '',
              to: session.envelope.rcptTo.map((address) => address.address),
              data,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              secure: session.secure,
              ...(session.user ? { user: String(session.user) } : {}),
            });
            callback(null, 'queued as TEST1');
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  const listening = server.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  state.port = (listening.address() as { port: number }).port;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

export interface ZabbixTrapper {
  port: number;
  /** Items of every sender request, in order. */
  batches: ZabbixItem[][];
  /** Keys the trapper refuses (counted as failed, as Zabbix does an unknown key). */
  refuseKeys: string[];
  close(): Promise<void>;
}

export async function startZabbixTrapper(): Promise<ZabbixTrapper> {
  const sockets = new Set<Socket>();
  const state: ZabbixTrapper = { port: 0, batches: [], refuseKeys: [], close: async () => undefined };
  const server = createTcpServer((socket) => {
    track(sockets, socket);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const request = parseZabbixFrame(received) as { request: string; data: ZabbixItem[] } | undefined;
      if (!request) return;
      state.batches.push(request.data);
      const failed = request.data.filter((item) => state.refuseKeys.includes(item.key)).length;
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
