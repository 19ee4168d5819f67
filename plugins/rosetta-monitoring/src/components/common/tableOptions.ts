/**
 * Options of a table without a title of its own (its card gives it) and without a search: MUI's toolbar would be an
 * empty strip above it.
 */
export const NO_TOOLBAR = { paging: false, toolbar: false, padding: 'dense' as const };
