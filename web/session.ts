// Logged-in operators and the CSRF defence of every POST: a session cookie (HttpOnly, SameSite=Strict), a
// token bound to the session in every form, and the request's Origin must be this console's own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Operator {
  user: string;
  /** What the session's forms carry; a POST without it is refused. */
  csrf: string;
}

export const sessionCookie = 'tidemark_session';
const lifetimeMs = 12 * 3_600_000;

export class Sessions {
  /** Lives as long as the process: a restart logs everyone out, which is fine for a console. */
  private readonly secret = randomBytes(32);
  private readonly sessions = new Map<string, { user: string; expires: number }>();

  create(user: string): string {
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, { user, expires: Date.now() + lifetimeMs });
    return id;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** The operator of a session cookie, or of a proxy's user header (token bound to that user). */
  operator(sessionId: string | undefined, proxyUser: string | undefined): Operator | undefined {
    if (proxyUser) return { user: proxyUser, csrf: this.token(`proxy:${proxyUser}`) };
    const session = sessionId ? this.sessions.get(sessionId) : undefined;
    if (!session || session.expires < Date.now()) return undefined;
    return { user: session.user, csrf: this.token(`session:${sessionId}`) };
  }

  private token(subject: string): string {
    return createHmac('sha256', this.secret).update(subject).digest('base64url');
  }
}

export function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A POST is the console's own only when its Origin names the host it was sent to (browsers always send it). */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
