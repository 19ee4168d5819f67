import { screen, within } from '@testing-library/react';
import { answerRunReports, registerServer, renderWithApi } from '../__testUtils__/monitoringServer';
import { RunPage } from './RunPage';

// The change calendar shades a day red where a change failed (closed unsuccessful) and blue where changes were implemented
// alone: a reader who cannot tell the two colours apart, or hears the cells, must still learn which day failed.
describe('change calendar', () => {
  registerServer();

  beforeEach(answerRunReports);

  it('says in words which day had a failed change, not by its colour alone', async () => {
    await renderWithApi(<RunPage />);
    const calendar = await screen.findByRole('table', { name: 'change calendar' });
    // team-egret, 26 November: 2 implemented, one unsuccessful; 27 November: the emergency, implemented.
    const egret = within(calendar).getByRole('rowheader', { name: 'team-egret' }).closest('tr')!;
    const failed = within(egret).getByRole('cell', { name: /^2026-11-26: .*1 failed/ });
    const fine = within(egret).getByRole('cell', { name: /^2026-11-27: .*0 failed/ });
    expect(failed).toHaveTextContent('2!');
    expect(fine).toHaveTextContent(/^1$/);
    expect(screen.getByText(/! a change failed that day \(closed unsuccessful, or with a close code counted as failed\)/)).toBeInTheDocument();
  });
});
