// `node dist/devenv/prepare-netbox.js` (scripts/setup.sh): NetBox's migrations, once per version.
import { prepareNetbox } from './netbox.js';

await prepareNetbox();
