// Where the embedded environment keeps its files: all under the checkout's .cache/.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The checkout (two levels above dist/devenv/). */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cacheDir = join(projectRoot, '.cache');
