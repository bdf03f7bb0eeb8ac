// `npm run docs:generate`: writes the generated reference pages (devenv/reference-docs.ts) into docs/reference/.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referencePages } from './reference-docs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const [path, text] of Object.entries(referencePages())) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text);
  console.log(`wrote ${path}`);
}
