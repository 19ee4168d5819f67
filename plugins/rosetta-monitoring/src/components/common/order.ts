/** Orders two texts by their characters' codes, as the API orders ids and ISO instants (not by the reader's locale). */
export function textOrder(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
