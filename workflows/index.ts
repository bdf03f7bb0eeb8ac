// Every workflow type the control worker runs.
export { backupHost, progressQuery } from './backup-host.js';
export { restoreHost, restoreProgressQuery } from './restore-host.js';
export { scheduledBackup } from './scheduled-backup.js';
export { syncInventory } from './sync-inventory.js';
export { replicateHost } from './replicate-host.js';
export { findMatches, hostFacts, pathHistory, serverFacts, snapshotFileChunk, snapshotFiles } from './server-facts.js';
export { restoreDrill } from './restore-drill.js';
