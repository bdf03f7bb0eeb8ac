// Secret files the inventory names (notify passwords and webhook keys, the NetBox token): read at run
// time, and refused when group or others can read them, because then the secret is not one.
import { open } from 'node:fs/promises';

/** The file is open to group or others; the message names it and the fix. */
export class SecretFileModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileModeError';
  }
}

/** The file's text; throws SecretFileModeError when its mode has group or other bits (read errors as they are). */
export async function readSecretFile(path: string, what: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    // fstat of the file that is read: a swap between the check and the read cannot slip past it.
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) {
      throw new SecretFileModeError(
        `the ${what} file ${path} is open to group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
