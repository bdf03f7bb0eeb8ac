// One host's dataset on one backup server and the retention that applies to it: what `tidemark snapshots`
// reads on the server itself and the web console asks the server's worker for.
import type { AdoptOptions, RetentionPolicy } from './retention.js';

export interface HostTarget {
  host: string;
  server: string;
  /** `<server dataset>/<host>` */
  dataset: string;
  policy: RetentionPolicy;
  adopt: AdoptOptions;
  /** guards.maxAnomalySnapshots: the cap a backup's prune applies to anomalies. */
  anomalyCap: number;
}

export interface LocalTarget extends HostTarget {
  /** False when no backup has created the dataset yet. */
  exists: boolean;
}
