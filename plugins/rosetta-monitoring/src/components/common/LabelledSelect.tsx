import { ComponentProps, useId, useRef } from 'react';
import { Select } from '@backstage/core-components';
import { useAriaInside } from './ariaInside';

/**
 * Backstage's Select, named as it reads: its label, then its value ("Period Last 7 days"). Backstage's (core-components
 * 0.18) puts its label on the field's wrapper, not on the button a screen reader meets, which said its value alone.
 */
export function LabelledSelect(props: ComponentProps<typeof Select>) {
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();
  useAriaInside(ref, 'label', { id: `${id}label` });
  useAriaInside(ref, '[role="button"]', { id: `${id}value`, 'aria-labelledby': `${id}label ${id}value` });
  return (
    <div ref={ref}>
      <Select {...props} />
    </div>
  );
}
