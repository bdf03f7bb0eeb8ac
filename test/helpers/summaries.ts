// A finished run's summary as the notify and state tests start from.
import type { BackupSummary } from '../../domain/backup.js';

export const goodSummary: BackupSummary = {
  host: 'vpn',
  server: 'b1',
  status: 'SUCCESS',
  dataset: 'data/vpn',
  snapshot: 'data/vpn@tidemark-20261123T101500Z',
  filesTransferred: 12,
  bytesTransferred: 3456,
  bytesReceived: 4000,
  durationMs: 4200,
  message: '12 files, 3456 bytes in 4s, snapshot data/vpn@tidemark-20261123T101500Z',
};
