// A minimal SMTP client (RFC 5321) for a local relay: EHLO (HELO fallback), MAIL, RCPT, DATA, QUIT.
// No TLS and no authentication: point it at the backup server's own MTA, which relays onwards.
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** Message-ID without brackets; also makes a retried delivery recognisable. */
  messageId: string;
  date?: Date;
}

export class SmtpError extends Error {
  override name = 'SmtpError';
  constructor(
    message: string,
    /** The server's reply code; 5xx is permanent. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** The RFC 5322 message with CRLF line ends and dot-stuffing applied (ready to follow DATA). */
export function formatMessage(message: MailMessage): string {
  const headers = [
    `From: ${message.from}`,
    `To: ${message.to.join(', ')}`,
    `Subject: ${message.subject.replace(/[\r\n]+/g, ' ')}`,
    `Date: ${(message.date ?? new Date()).toUTCString().replace(/GMT$/, '+0000')}`,
    `Message-ID: <${message.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
  ];
  const body = message.text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return `${headers.join('\r\n')}\r\n\r\n${body}${body.endsWith('\r\n') ? '' : '\r\n'}`;
}

/** Reads complete SMTP replies (multi-line "250-..." continued until "250 ..."). */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: ((reply: { code: number; text: string } | Error) => void) | undefined;
  private failure: Error | undefined;
  /** Replies that arrived before anyone asked. */
  private early: { code: number; text: string }[] = [];

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.drain();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private fail(error: Error) {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(this.failure);
  }

  private drain() {
    let index;
    while ((index = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, index).replace(/\r$/, '');
      this.buffer = this.buffer.slice(index + 1);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const text = this.lines.map((part) => part.slice(4)).join('\n');
        this.lines = [];
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.({ code: Number(line.slice(0, 3)), text });
        if (!waiting) this.early.push({ code: Number(line.slice(0, 3)), text });
      }
    }
  }

  next(): Promise<{ code: number; text: string }> {
    const ready = this.early.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (reply) => (reply instanceof Error ? reject(reply) : resolve(reply));
    });
  }
}

export interface SmtpOptions {
  host: string;
  port: number;
  timeoutMs?: number;
  /** Name sent with EHLO; default this machine's host name. */
  heloName?: string;
}

/** Delivers one message; throws SmtpError (with the reply code) when the server refuses a step. */
export async function sendMail(options: SmtpOptions, message: MailMessage): Promise<string> {
  const socket = connect({ host: options.host, port: options.port });
  socket.setTimeout(options.timeoutMs ?? 30_000, () => socket.destroy(new Error(`no answer within ${options.timeoutMs ?? 30_000} ms`)));
  const reader = new ReplyReader(socket);
  const where = `SMTP ${options.host}:${options.port}`;
  const expect = async (step: string, accepted: number[]) => {
    let reply;
    try {
      reply = await reader.next();
    } catch (error) {
      throw new SmtpError(`${where}: ${step}: ${(error as Error).message}`);
    }
    if (!accepted.includes(reply.code)) throw new SmtpError(`${where} refused ${step}: ${reply.code} ${reply.text.split('\n')[0]}`, reply.code);
    return reply;
  };
  const command = async (line: string, step: string, accepted: number[]) => {
    socket.write(`${line}\r\n`);
    return expect(step, accepted);
  };
  try {
    await expect('the connection', [220]);
    const helo = options.heloName ?? hostname();
    try {
      await command(`EHLO ${helo}`, 'EHLO', [250]);
    } catch (error) {
      if (!(error instanceof SmtpError) || error.code === undefined) throw error;
      await command(`HELO ${helo}`, 'HELO', [250]);
    }
    await command(`MAIL FROM:<${message.from}>`, `sender ${message.from}`, [250]);
    for (const to of message.to) await command(`RCPT TO:<${to}>`, `recipient ${to}`, [250, 251]);
    await command('DATA', 'DATA', [354]);
    const accepted = await command(`${formatMessage(message)}.`, 'the message', [250]);
    await command('QUIT', 'QUIT', [221]).catch(() => undefined);
    return accepted.text;
  } finally {
    socket.destroy();
  }
}
