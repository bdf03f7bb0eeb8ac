// The one alphabet of paths on a backed-up host that reach its rsync as arguments: the inventory's host
// paths (inventory/field-rules.ts) and the host's ssh filter (deploy/host/tidemark-ssh-filter, its
// `*[!A-Za-z0-9._/+\ -]*` pattern) admit the same characters, so a host the inventory accepts is never
// refused by its filter on every run. test/host-path-alphabet.test.ts holds the two together.

/** The characters of one name, as a regular-expression class body (the filter's, minus its space). */
export const hostPathClass = 'A-Za-z0-9._+\\-';

/** The same in words, for messages. */
export const hostPathAlphabet = 'ASCII letters, digits, "/" and . _ + -';

/** Absolute, names of the alphabet separated by "/" and single spaces inside names. */
export const hostPathCharacters = new RegExp(`^[${hostPathClass}/]+( [${hostPathClass}/]+)*$`);

/** The same without spaces (selectionRoot and other host folders named in one word). */
export const hostFolderCharacters = new RegExp(`^[${hostPathClass}/]+$`);
