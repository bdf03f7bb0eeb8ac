// Delivers a mail target's messages through nodemailer: plain SMTP to the local MTA by default, or a
// smarthost with STARTTLS and AUTH. nodemailer encodes what SMTP needs (RFC 2047 subjects,
// quoted-printable or base64 bodies), so any text arrives intact through any relay.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createTransport, type SMTPTransportOptions } from 'nodemailer';
import { readSecret } from './http.js';
import type { MailTarget } from '../inventory/notify-schema.js';
import { PermanentNotifyError } from './targets.js';

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** Message-ID without brackets; also makes a retried delivery recognisable. */
  messageId: string;
  date?: Date;
}

export const defaultSmtp = '127.0.0.1:25';
const timeoutMs = 30_000;

/** host and port of the target's `smtp` (default the local MTA). */
export function smtpAddress(target: Pick<MailTarget, 'smtp'>): { host: string; port: number } {
  const [host = '127.0.0.1', port = '25'] = (target.smtp ?? defaultSmtp).split(/:(?=\d+$)/);
  return { host, port: Number(port) };
}

/** nodemailer's transport settings for the target; the password is read from its file now, never stored. */
async function transportOptions(target: MailTarget): Promise<SMTPTransportOptions> {
  const { host, port } = smtpAddress(target);
  const starttls = target.starttls ?? 'off';
  const ca = target.caFile ? await readCa(target.caFile) : undefined;
  return {
    host,
    port,
    secure: false,
    name: hostname(),
    // off: never STARTTLS, even when offered (a local MTA's self-signed certificate must not stop mail).
    ignoreTLS: starttls === 'off',
    requireTLS: starttls === 'required',
    tls: { ...(ca ? { ca } : {}), ...(target.tlsServerName ? { servername: target.tlsServerName } : {}) },
    ...(target.user && target.passwordFile
      ? { auth: { user: target.user, pass: await readSecret(target.passwordFile, 'SMTP password') } }
      : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
  };
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new PermanentNotifyError(`mail target caFile ${path} cannot be read: ${(error as Error).message}`);
  }
}

/** What nodemailer's errors carry besides the message. */
interface SmtpFailure extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
  /** Recipients the server refused (when it refused them all). */
  rejected?: string[];
}

/** Sends one message; returns the server's reply to it. A refusal retrying cannot fix (5xx, failed AUTH,
 * STARTTLS required but not offered) throws PermanentNotifyError; the password never appears in errors. */
export async function deliverMail(target: MailTarget, message: MailMessage): Promise<string> {
  const options = await transportOptions(target);
  const transport = createTransport(options);
  const where = `SMTP ${target.smtp ?? defaultSmtp}`;
  try {
    const info = await transport.sendMail({
      from: message.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      messageId: `<${message.messageId}>`,
      date: message.date ?? new Date(),
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    return `${info.response}${info.rejected.length > 0 ? ` (refused: ${info.rejected.join(', ')})` : ''}`;
  } catch (error) {
    throw describeFailure(error as SmtpFailure, where, target, options.auth?.pass);
  } finally {
    transport.close();
  }
}

function describeFailure(error: SmtpFailure, where: string, target: MailTarget, password: string | undefined): Error {
  // nodemailer does not put the password in its messages; this holds even if a server echoed it.
  const text = password ? error.message.split(password).join('***') : error.message;
  if (error.code === 'EAUTH') {
    return new PermanentNotifyError(
      `${where} refused AUTH for user "${target.user}": ${text}; check user and the password in passwordFile ${target.passwordFile}`,
    );
  }
  if (error.code === 'ETLS' || /STARTTLS/i.test(text)) {
    return new PermanentNotifyError(
      `${where}: STARTTLS failed: ${text}; the server must offer STARTTLS (or set starttls: opportunistic or off)`,
    );
  }
  if (/certificate/i.test(text)) {
    return new PermanentNotifyError(
      `${where}: the server's TLS certificate was not accepted: ${text}; set caFile to the CA that signed it (and tlsServerName when smtp is an address)`,
    );
  }
  const recipients = error.rejected && error.rejected.length > 0 ? ` (recipients ${error.rejected.join(', ')})` : '';
  if (error.responseCode !== undefined && error.responseCode >= 500)
    return new PermanentNotifyError(`${where} refused the mail${recipients}: ${text}`);
  return new Error(`${where}${recipients}: ${text}`);
}
