// Every workflow type the control worker runs.
export { backupHost, progressQuery } from './backup-host.js';
