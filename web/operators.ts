// Who may act: operators in a password file (one `name:scrypt$N$r$p$salt$hash` line each, salt and hash in
// base64, made by `tidemark web-password NAME`), or, when configured, the user a reverse proxy in front has
// authenticated and names in a header. Hashes only: the file never holds a password.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TidemarkError } from '../domain/errors.js';

const cost = { N: 16384, r: 8, p: 1 };
const keyLength = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** The password file's line for `name`. */
export async function hashLine(name: string, password: string): Promise<string> {
  if (!/^[A-Za-z0-9._@-]+$/.test(name))
    throw new TidemarkError('USAGE', `operator name "${name}": use letters, digits and . _ @ - only`);
  if (password.length < 8) throw new TidemarkError('USAGE', 'password: at least 8 characters');
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `${name}:scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Entry {
  salt: Buffer;
  key: Buffer;
  options: ScryptOptions;
}

export class PasswordFile {
  private constructor(private readonly entries: Map<string, Entry>) {}

  /** Reads and checks every line now, so a broken file stops the console at start, naming the line. */
  static read(path: string): PasswordFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new TidemarkError('USAGE', `--password-file ${path}: ${(error as Error).message}`);
    }
    const entries = new Map<string, Entry>();
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const match = /^([A-Za-z0-9._@-]+):scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(
        line.trim(),
      );
      if (!match)
        throw new TidemarkError(
          'USAGE',
          `--password-file ${path} line ${index + 1}: expected NAME:scrypt$N$r$p$SALT$HASH; make lines with "tidemark web-password NAME"`,
        );
      entries.set(match[1]!, {
        options: { N: Number(match[2]), r: Number(match[3]), p: Number(match[4]) },
        salt: Buffer.from(match[5]!, 'base64'),
        key: Buffer.from(match[6]!, 'base64'),
      });
    });
    return new PasswordFile(entries);
  }

  /** True when `password` is `name`'s (constant-time compare; unknown names cost a hash too). */
  async verify(name: string, password: string): Promise<boolean> {
    const entry = this.entries.get(name);
    const key = await derive(password, entry?.salt ?? Buffer.alloc(16), entry?.options ?? cost);
    return entry !== undefined && entry.key.length === key.length && timingSafeEqual(entry.key, key);
  }
}
