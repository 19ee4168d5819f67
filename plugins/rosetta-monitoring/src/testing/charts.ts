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
