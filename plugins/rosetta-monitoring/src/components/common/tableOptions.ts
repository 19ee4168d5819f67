/**
 * What every table leaves out. The rows come ordered by what they show (riskiest, latest, largest backlog first):
 * material-table's sort buttons sorted nothing on a column drawn by a render function and never said the order to a
 * screen reader, and its column drag handles doubled every header's tab stop.
 */
const PLAIN = { paging: false, sorting: false, draggable: false, padding: 'dense' as const };

/** Options of a table with a title of its own (shown in its toolbar), without a search. */
export const TITLED = { ...PLAIN, search: false };

/**
 * Options of a table without a title of its own (its card gives it) and without a search: MUI's toolbar would be an
 * empty strip above it.
 */
export const NO_TOOLBAR = { ...PLAIN, toolbar: false };
