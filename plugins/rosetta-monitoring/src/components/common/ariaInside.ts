import { RefObject, useEffect } from 'react';

/**
 * Sets ARIA attributes on the elements `selector` finds inside `ref`, after every render, for Backstage components that
 * render those elements without taking the attributes (its Select's button, its Table's table). React leaves alone an
 * attribute it was never given, so they stay until the next render sets them again.
 */
export function useAriaInside(ref: RefObject<HTMLElement>, selector: string, attributes: Record<string, string>) {
  useEffect(() => {
    ref.current?.querySelectorAll(selector).forEach(element => {
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    });
  });
}
