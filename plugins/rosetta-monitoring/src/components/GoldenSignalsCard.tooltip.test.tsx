import { waitFor } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { giveChartsASize, hoverChart } from '../__testUtils__/charts';
import { GoldenSignalsCard } from './GoldenSignalsCard';

describe('golden signals tooltip', () => {
  registerServer();

  // Three hours, 05:00 to 08:00; the lake has no p95 for 06:00, the middle of the chart's 800 pixels. Hovering it named
  // the hour and nothing else, as if the chart had no series there.
  it('says an hour without a figure has none', async () => {
    const restore = giveChartsASize();
    try {
      const p95 = {
        ...f.timeseriesProfilesP95,
        period: { name: null, start: '2026-11-27T05:00:00Z', end: '2026-11-27T08:00:00Z' },
        points: [{ t: '2026-11-27T05:00:00Z', v: 86 }, { t: '2026-11-27T07:00:00Z', v: 92 }],
      };
      server.use(answer('/applications/:id/timeseries', p95));
      await renderWithApi(<GoldenSignalsCard entity={{ level: 'applications', id: 'profiles' }} period="last_7d" />);
      await waitFor(() => expect(document.querySelectorAll('.recharts-wrapper')).toHaveLength(5));
      // The charts in the order of the signals: latency p95 first.
      const tooltip = await hoverChart(0, 400);
      expect(tooltip.label).toBe('2026-11-27 06:00:00 UTC');
      expect(tooltip.items).toEqual(['Latency p95 : –']);
    } finally {
      restore();
    }
  });
});
