// The mark `tidemark decommission` leaves on a host's dataset, and how long it protects the dataset.

/** User property holding the ISO time the host was decommissioned (set locally on its dataset). */
export const decommissionedProperty = 'tidemark:decommissioned';

/** `decommission --destroy` refuses until the mark is this old: time to notice a host retired by mistake. */
export const decommissionGraceMs = 30 * 24 * 60 * 60 * 1000;
