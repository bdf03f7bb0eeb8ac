// Which host a dataset belongs to: set when Tidemark creates it, checked before every write into it.

/** User property naming the dataset's host (set locally; an inherited value does not count). */
export const ownerProperty = 'tidemark:host';
