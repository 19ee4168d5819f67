
import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import { TITLED } from './common/tableOptions';
import type { Change, MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { SERVICENOW_NOT_MAPPED, Widget, whyUnknown } from './common/WidgetState';
import { SHORTER_PERIOD } from './common/TruncatedNotice';
import { NONE, when } from './common/format';
import { textOrder } from './common/order';
import { CHANGE_SOURCES, SOURCE_LABELS } from './common/sources';
import { asRead, readUntilOf } from './common/readUntil';
import { SourceLink } from './common/SourceLink';

/** ServiceNow's state of a canceled change: final, as closed is, but nothing was implemented. */
const CANCELED = 4;

/**
 * What came of a change: failed once it closed unsuccessful, else its close code once closed, whichever it is (one the
 * instance added, rolled back say, too). A canceled change is canceled whatever close code it carries. The close code
 * of a change not closed (in Review) is not its outcome yet, and the change failure rate does not count it: a bare
 * "unsuccessful" would read as a failure.
 */
function outcome(c: Change): string {
  if (c.isFailed) return 'failed';
  if (c.state === CANCELED) return c.closeCode ? `canceled (close code ${c.closeCode})` : 'canceled';
  if (!c.closeCode) return NONE;
  return c.isClosed ? c.closeCode : `not closed (close code ${c.closeCode})`;
}

const COLUMNS: TableColumn<Change>[] = [
  { title: 'Number', field: 'number', render: c => <SourceLink url={c.url}>{c.number}</SourceLink> },
  { title: 'Type', field: 'type' },
  { title: 'State', field: 'stateLabel' },
  { title: 'Risk', field: 'risk' },
  { title: 'Description', field: 'shortDescription' },
  { title: 'Start', render: c => when(c.changeStart ?? c.plannedStart) },
  { title: 'Outcome', render: outcome },
  // The deployment attempt the change covered, as the deployments' history names it.
  { title: 'Deployment', render: c => c.deploymentKey ?? NONE },
];

/** The recent changes shown: the latest of the period. */
const RECENT_SHOWN = 10;

const startOf = (c: Change) => c.changeStart ?? c.plannedStart ?? '';

/** The API lists changes latest first; the next change to come heads the upcoming list. */
function soonestFirst(changes: Change[]): Change[] {
  return [...changes].sort((a, b) => textOrder(startOf(a), startOf(b)));
}

/** What the changes' lists call their records when ServiceNow was read only up to a time. */
const RECORDS = SOURCE_LABELS['servicenow/changes'];

/** Upcoming changes (soonest first) and the recent ones of the period (latest first). */
export function ChangesCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const state = useMonitoringData(
    api => Promise.all([api.getChanges(entity, 'upcoming', period), api.getChanges(entity, 'recent', period)]),
    ['upcoming and recent changes', entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget
      title="Changes"
      what="changes"
      state={state}
      isEmpty={([up, recent]) => up.items.length + recent.items.length === 0}
      unknown={([up]) => whyUnknown(up.state, SERVICENOW_NOT_MAPPED, "ServiceNow's change requests")}
      freshness={([up]) => up.freshness}
      readUntil={lists => readUntilOf(RECORDS, ...lists)}
      sources={CHANGE_SOURCES}
      toSeeTheRest={SHORTER_PERIOD}
    >
      {([upcoming, recent]) => {
        // Read only up to a time: the counts are as of then, later changes unknown.
        const read = asRead(readUntilOf(RECORDS, upcoming, recent));
        const shown = recent.items.length > RECENT_SHOWN ? `latest ${RECENT_SHOWN} of ` : '';
        return (
          <>
            <NamedTable<Change>
              name="Upcoming changes"
              title={`Upcoming (${upcoming.items.length}${read})`}
              options={TITLED}
              columns={COLUMNS}
              data={soonestFirst(upcoming.items)}
              emptyContent={<p style={{ padding: 8 }}>No upcoming change{read}.</p>}
            />
            <NamedTable<Change>
              name="Recent changes"
              title={`Recent (${shown}${recent.items.length}${read})`}
              options={TITLED}
              columns={COLUMNS}
              data={recent.items.slice(0, RECENT_SHOWN)}
              emptyContent={<p style={{ padding: 8 }}>No change in the period{read}.</p>}
            />
          </>
        );
      }}
    </Widget>
  );
}
