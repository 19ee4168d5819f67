import { screen } from '@testing-library/react';
import { answer, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import type { MonitoredEntity } from '../api/types';
import { IncidentsCard } from './IncidentsCard';

const profiles: MonitoredEntity = { level: 'applications', id: 'system:default/profiles' };
const base = '/applications/:id';

/** The SLA cell of the incident `number`, found by its column's header. */
async function slaCell(number: string): Promise<string | null> {
  const row = (await screen.findByRole('cell', { name: number })).closest('tr')!;
  const headers = Array.from(row.closest('table')!.querySelectorAll('th')).map(th => th.textContent);
  return row.querySelectorAll('td')[headers.indexOf('SLA')].textContent;
}

describe('an incident whose task SLAs were not read', () => {
  registerServer();

  /*
   * Open now: INC-A opened before the lake first read task SLAs, none of it read (slaRead false); INC-B with a met
   * SLA read, opened before it too; INC-C with a breached SLA read, opened before it; INC-D opened after it, without
   * a task SLA (slaRead true); INC-E as an API before slaRead answers, without the field, and without a task SLA: as
   * before, it has none. Each is a record of its own: the recorded incident's ServiceNow page is none of theirs.
   */
  it('says its SLA is unknown, not that it has none', async () => {
    const { slaRead, ...recorded } = { ...f.incidentsProfiles.items[0], url: null };
    const open = [
      { ...recorded, sysId: 'a', number: 'INC-A', isOpen: true, slaBreached: null, slaRead: false },
      { ...recorded, sysId: 'b', number: 'INC-B', isOpen: true, slaBreached: false, slaRead: false },
      { ...recorded, sysId: 'c', number: 'INC-C', isOpen: true, slaBreached: true, slaRead: true },
      { ...recorded, sysId: 'd', number: 'INC-D', isOpen: true, slaBreached: null, slaRead: true },
      { ...recorded, sysId: 'e', number: 'INC-E', isOpen: true, slaBreached: null },
    ];
    server.use(
      answer(`${base}/incidents`, { ...f.incidentsProfiles, status: 'open', items: open }, { status: 'open' }),
      answer(`${base}/incidents`, { ...f.incidentsProfiles, status: 'closed', items: [] }, { status: 'closed' }),
    );
    await renderWithApi(<IncidentsCard entity={profiles} period="last_7d" />);
    expect(await slaCell('INC-A')).toBe('unknown');
    expect(await slaCell('INC-B')).toBe('unknown');
    expect(await slaCell('INC-C')).toBe('breached');
    expect(await slaCell('INC-D')).toBe('no SLA');
    expect(await slaCell('INC-E')).toBe('no SLA');
  });
});
