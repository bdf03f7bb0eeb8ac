// Bundles the workflow code once at build time, so a worker starts in well under a second.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** dist/workflow-bundle.js, next to the compiled code. */
export const workflowBundlePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
export const workflowsPath = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

/** The bundler logs every webpack step at INFO; a build only needs warnings. */
const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

// Run as a script (the build), never when this code is part of the CLI's bundle, whose file is then the entry.
if (import.meta.url.endsWith('/worker/bundle.js') && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  await writeFile(workflowBundlePath, code);
}
