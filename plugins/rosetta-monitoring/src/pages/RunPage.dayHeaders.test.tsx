import { screen, within } from '@testing-library/react';
import { answerRunReports, registerServer, renderWithApi } from '../__testUtils__/monitoringServer';
import { RunPage } from './RunPage';

// The day columns show "11-26" to fit: a screen reader heard that alone, neither the year nor that it is a date.
describe('run view day columns', () => {
  registerServer();

  beforeEach(answerRunReports);

  it('names the heatmap day columns by their full date, showing month and day', async () => {
    await renderWithApi(<RunPage />);
    const heatmap = await screen.findByRole('table', { name: 'incident heatmap' });
    const day = within(heatmap).getByRole('columnheader', { name: '2026-11-26' });
    expect(day).toHaveTextContent(/^11-26$/);
  });

  it('names the change calendar day columns by their full date too', async () => {
    await renderWithApi(<RunPage />);
    const calendar = await screen.findByRole('table', { name: 'change calendar' });
    expect(within(calendar).getByRole('columnheader', { name: '2026-11-26' })).toHaveTextContent(/^11-26$/);
  });
});
