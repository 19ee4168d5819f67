import { fireEvent, waitFor } from '@testing-library/react';

/**
 * jsdom lays nothing out, so recharts' ResponsiveContainer draws nothing: gives every element a size (800 × 200) and a
 * ResizeObserver that reports it, for the test's duration. Returns the function that undoes it.
 */
export function giveChartsASize(): () => void {
  const observer = class {
    constructor(private readonly callback: ResizeObserverCallback) {}
    observe(target: Element) {
      this.callback([{ target, contentRect: { width: 800, height: 200 } } as any], this as any);
    }
    unobserve() {}
    disconnect() {}
  };
  const saved = (global as any).ResizeObserver;
  (global as any).ResizeObserver = observer;
  const spies = [
    ...(['clientWidth', 'offsetWidth'] as const).map(p => jest.spyOn(HTMLElement.prototype, p, 'get').mockReturnValue(800)),
    ...(['clientHeight', 'offsetHeight'] as const).map(p => jest.spyOn(HTMLElement.prototype, p, 'get').mockReturnValue(200)),
  ];
  return () => {
    spies.forEach(spy => spy.mockRestore());
    (global as any).ResizeObserver = saved;
  };
}

/** The tick labels of the value axis of the `index`th chart on the page. */
export function valueTicks(index: number): (string | null)[] {
  const chart = document.querySelectorAll('.recharts-wrapper')[index];
  return Array.from(chart?.querySelectorAll('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value') ?? []).map(
    e => e.textContent,
  );
}

/**
 * Hovers the `index`th chart on the page at `x` pixels from its left (of the 800 × 200 giveChartsASize gives) and
 * reads its tooltip once shown: its label and each item as "name : value". jsdom places nothing, so the chart's box is
 * given for the hover.
 */
export async function hoverChart(index: number, x: number): Promise<{ label: string | null; items: (string | null)[] }> {
  const box = { x: 0, y: 0, left: 0, top: 0, width: 800, height: 200, right: 800, bottom: 200, toJSON() {} };
  const rect = jest.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockReturnValue(box as DOMRect);
  try {
    const chart = document.querySelectorAll('.recharts-wrapper')[index];
    fireEvent.mouseMove(chart, { clientX: x, clientY: 100 });
    const tooltip = () => chart.querySelector('.recharts-tooltip-wrapper');
    await waitFor(() => expect(tooltip()?.querySelector('.recharts-tooltip-label')?.textContent).toBeTruthy());
    return {
      label: tooltip()!.querySelector('.recharts-tooltip-label')!.textContent,
      items: Array.from(tooltip()!.querySelectorAll('.recharts-tooltip-item')).map(e => e.textContent),
    };
  } finally {
    rect.mockRestore();
  }
}
