import { useRef } from 'react';
import { Table, TableProps } from '@backstage/core-components';
import { useAriaInside } from './ariaInside';

/**
 * Backstage's Table with an accessible name, by which a screen reader lists the page's tables and tells them apart:
 * its title is a heading beside the table, not its name, and it takes no attribute for the table itself.
 */
export function NamedTable<T extends object>({ name, ...props }: TableProps<T> & { name: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useAriaInside(ref, 'table', { 'aria-label': name });
  return (
    <div ref={ref}>
      <Table<T> {...props} />
    </div>
  );
}
