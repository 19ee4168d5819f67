import { screen, within } from '@testing-library/react';

/**
 * The cells of `column` in the table that has it, by each row's first cell (its application or group): what a reader
 * of that column sees, row by row. Waits for the column to appear.
 */
export async function cellsOfColumn(column: string): Promise<Record<string, string>> {
  const table = (await screen.findByRole('columnheader', { name: column })).closest('table')!;
  const at = within(table)
    .getAllByRole('columnheader')
    .map(h => h.textContent)
    .indexOf(column);
  const rows = within(table).getAllByRole('row').slice(1);
  return Object.fromEntries(
    rows.map(row => {
      const cells = within(row).getAllByRole('cell').map(c => c.textContent);
      return [cells[0], cells[at]];
    }),
  );
}
