import { screen, waitFor } from '@testing-library/react';
import { answer, askedOf, pick, registerServer, renderAt, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

/*
 * The SRE/DORA view in light correlation or under the 2024 bands, as the API's kpis/dora gives them (`mode`,
 * `bandSet`): chosen on the page, kept in its link, and asked of the report. Full correlation and the 2023 bands
 * are the API's defaults: the page sends neither, and a link to them stays plain.
 */
const query = () => screen.getByTestId('query').textContent;

/** What the report was asked for, request by request: `mode` and `bandSet`, absent ones as null. */
const sent = (asked: URLSearchParams[]) => asked.map(q => [q.get('mode'), q.get('bandSet')]);

/** The report as the API answers it for a mode and bands (it names them back). */
function answerDora() {
  server.use(
    answer('/kpis/dora', { ...f.doraApp, mode: 'light', bandSet: '2024' }, { mode: 'light', bandSet: '2024' }),
    answer('/kpis/dora', { ...f.doraApp, mode: 'light', bandSet: '2023' }, { mode: 'light' }),
    answer('/kpis/dora', { ...f.doraApp, mode: 'full', bandSet: '2024' }, { bandSet: '2024' }),
    answer('/kpis/dora', { ...f.doraApp, mode: 'full', bandSet: '2023' }),
  );
}

describe('SRE/DORA view: correlation mode and bands', () => {
  registerServer();
  afterEach(() => server.events.removeAllListeners());

  it('asks for the API defaults by sending neither, and shows them picked', async () => {
    answerDora();
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?view=dora');
    expect(await screen.findByRole('button', { name: 'Correlation Full' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Bands 2023' })).toBeInTheDocument();
    expect(await screen.findByText(/bands 2023, full correlation/)).toBeInTheDocument();
    expect(sent(asked)).toEqual(asked.map(() => [null, null]));
    expect(asked.length).toBeGreaterThan(0);
  });

  it('opens a link on light correlation and the 2024 bands and asks the report for them', async () => {
    answerDora();
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?view=dora&mode=light&bandSet=2024');
    expect(await screen.findByRole('button', { name: 'Correlation Light' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Bands 2024' })).toBeInTheDocument();
    expect(await screen.findByText(/bands 2024, light correlation/)).toBeInTheDocument();
    // Never the defaults first: the link's choices are the page's from its first request.
    expect(sent(asked)).toEqual(asked.map(() => ['light', '2024']));
  });

  it('puts a choice in the URL and asks for it; the default takes it out again', async () => {
    answerDora();
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?view=dora');
    await pick('Correlation', 'Full', 'Light');
    expect(query()).toBe('?view=dora&mode=light');
    await waitFor(() => expect(sent(asked).pop()).toEqual(['light', null]));
    expect(await screen.findByText(/bands 2023, light correlation/)).toBeInTheDocument();

    await pick('Bands', '2023', '2024');
    expect(query()).toBe('?view=dora&mode=light&bandSet=2024');
    await waitFor(() => expect(sent(asked).pop()).toEqual(['light', '2024']));

    await pick('Correlation', 'Light', 'Full');
    expect(query()).toBe('?view=dora&bandSet=2024');
    await waitFor(() => expect(sent(asked).pop()).toEqual([null, '2024']));
    expect(await screen.findByText(/bands 2024, full correlation/)).toBeInTheDocument();
  });

  it('reads a mode or bands it does not offer as the default, without asking the API for them', async () => {
    answerDora();
    const asked = askedOf('/kpis/dora');
    await renderAt(<DoraPage />, '/rosetta-monitoring?view=dora&mode=heavy&bandSet=2019');
    expect(await screen.findByRole('button', { name: 'Correlation Full' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Bands 2023' })).toBeInTheDocument();
    await waitFor(() => expect(asked.length).toBeGreaterThan(0));
    expect(sent(asked)).toEqual(asked.map(() => [null, null]));
  });
});
