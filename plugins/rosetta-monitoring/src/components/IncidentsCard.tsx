
import { TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import { TITLED } from './common/tableOptions';
import type { Incident, MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { SERVICENOW_NOT_MAPPED, Widget, whyUnknown } from './common/WidgetState';
import { SHORTER_PERIOD } from './common/TruncatedNotice';
import { NONE, hours, when } from './common/format';
import { INCIDENT_SOURCES, SOURCE_LABELS } from './common/sources';
import { asRead, readUntilOf } from './common/readUntil';
import { SourceLink } from './common/SourceLink';

/** The build's correlation rules (mv_incident_links) as a person reads them. */
export const LINK_RULES: Record<string, string> = {
  change_caused_by: 'the change it names',
  dynatrace_root_cause: 'Dynatrace root cause',
  change_ci_window: 'a change on its CI',
  same_component_window: 'same component, within hours',
};

/**
 * The deployment full correlation links the incident to, by which rule and how confidently. A link under the
 * confidence that counts stays as evidence: it does not make the deployment a change failure.
 */
export function linkedDeployment(i: Incident): string {
  if (!i.linkedDeploymentFull) return NONE;
  const rule = i.linkRuleFull ? LINK_RULES[i.linkRuleFull] ?? i.linkRuleFull : 'unknown rule';
  const confidence = i.linkConfidenceFull === null || i.linkConfidenceFull === undefined ? '' : `, ${i.linkConfidenceFull.toFixed(2)}`;
  const counts = i.linkCountsAsChangeFailureFull === false ? '; evidence only, not a change failure' : '';
  return `${i.linkedDeploymentFull} (${rule}${confidence}${counts})`;
}

/**
 * An incident's task SLA: null is no SLA at all, which is not having met one. When its task SLAs were not read (it
 * opened before the lake first read them), only a breach read is known: another SLA may have breached unread. An
 * answer without slaRead (an API before it) reads as one whose task SLAs were read, as it did then.
 */
function slaOf(i: Incident): string {
  if (i.slaBreached === true) return 'breached';
  if (i.slaRead === false) return 'unknown';
  return i.slaBreached === false ? 'ok' : 'no SLA';
}

const COLUMNS: TableColumn<Incident>[] = [
  { title: 'Number', field: 'number', render: i => <SourceLink url={i.url}>{i.number}</SourceLink> },
  { title: 'Priority', field: 'priority' },
  { title: 'State', field: 'stateLabel' },
  { title: 'Description', field: 'shortDescription' },
  { title: 'Opened', render: i => when(i.openedAt) },
  { title: 'Duration / age', render: i => hours(i.durationHours ?? i.openAgeHours) },
  { title: 'SLA', render: slaOf },
  { title: 'Linked deployment', render: linkedDeployment },
];

/** The closed incidents shown: the latest of the period. */
const HISTORY_SHOWN = 10;

/**
 * Incidents opened in the period, from both lists: status=open gives every incident open now, however old, and
 * status=closed the closed ones opened or restored in the period's whole days (the period the list answers with),
 * so only those opened in it are counted. Cancelled incidents are not counted as opened, as in the incidents
 * report (kpis/incidents).
 */
function openedIn(period: { start: string; end: string }, incidents: Incident[]): number {
  const start = Date.parse(period.start);
  const end = Date.parse(period.end);
  return incidents.filter(i => {
    const opened = i.openedAt ? Date.parse(i.openedAt) : NaN;
    return !i.isCanceled && opened >= start && opened < end;
  }).length;
}

/** What the incidents' lists call their records when ServiceNow was read only up to a time. */
const RECORDS = SOURCE_LABELS['servicenow/incidents'];

/** Open incidents first (however old), then a short history of the period. */
export function IncidentsCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const state = useMonitoringData(
    api => Promise.all([api.getIncidents(entity, 'open', period), api.getIncidents(entity, 'closed', period)]),
    ['open and closed incidents', entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget
      title="Incidents"
      what="incidents"
      state={state}
      isEmpty={([open, closed]) => open.items.length + closed.items.length === 0}
      unknown={([open]) => whyUnknown(open.state, SERVICENOW_NOT_MAPPED, "ServiceNow's incidents")}
      freshness={([openList]) => openList.freshness}
      readUntil={lists => readUntilOf(RECORDS, ...lists)}
      sources={INCIDENT_SOURCES}
      toSeeTheRest={SHORTER_PERIOD}
    >
      {([openList, closedList]) => {
        const open = openList.items.filter(i => i.isOpen);
        const closed = closedList.items.filter(i => !i.isOpen);
        const history = closed.slice(0, HISTORY_SHOWN);
        // Read only up to a time: the counts are as of then, not of now nor of the whole period.
        const read = asRead(readUntilOf(RECORDS, openList, closedList));
        const opened = openedIn(closedList.period, [...open, ...closed]);
        return (
          <>
            <p>
              <strong data-testid="open-incidents">{open.length}</strong> open {read ? read.trim() : 'now'}, however
              old; <strong data-testid="opened-in-period">{opened}</strong> opened in the period{read}
            </p>
            <NamedTable<Incident>
              name="Open incidents"
              title="Open"
              options={TITLED}
              columns={COLUMNS}
              data={open}
              emptyContent={<p style={{ padding: 8 }}>No open incident{read}.</p>}
            />
            <NamedTable<Incident>
              name="Recent incidents"
              title={closed.length > HISTORY_SHOWN ? `Recent history (latest ${HISTORY_SHOWN} of ${closed.length})` : 'Recent history'}
              options={TITLED}
              columns={COLUMNS}
              data={history}
              emptyContent={<p style={{ padding: 8 }}>No closed incident in the period{read}.</p>}
            />
          </>
        );
      }}
    </Widget>
  );
}
