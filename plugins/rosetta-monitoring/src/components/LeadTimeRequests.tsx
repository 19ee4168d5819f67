import { useId, useState } from 'react';
import { TableColumn } from '@backstage/core-components';
import type { KpiPeriod, LeadTime, LeadTimeList, MonitoredEntity } from '../api/types';
import { coveredDays } from '../pages/KpiControls';
import { NamedTable } from './common/NamedTable';
import { TITLED } from './common/tableOptions';
import { useMonitoringData } from './common/useMonitoringData';
import { whyUnknown, WidgetBody } from './common/WidgetState';
import { SHORTER_PERIOD } from './common/TruncatedNotice';
import { cutHours, NONE, when } from './common/format';
import { asRead, readUntilOf } from './common/readUntil';
import { SOURCE_LABELS } from './common/sources';
import { SourceLink } from './common/SourceLink';

/** The list's name, as the reader asks for it and a screen reader lists the table. */
const NAME = 'Merge requests behind the lead time';

/** What the list says for an application the mapping ties to no GitLab project (nor any of its components). */
const GITLAB_NOT_MAPPED =
  'No GitLab project is mapped to this application or its components in this environment, so no merge request ' +
  'can be attributed to it: unknown, not none.';

/** The requests are found through the deployments that shipped them: those read only up to a time. */
const RECORDS = SOURCE_LABELS['deploys/deployment_events'];

/**
 * A request as GitLab names it (!12), a link to its page when the API gives one. A request read by an earlier
 * release has no iid: "–".
 */
function MergeRequest({ request: r }: { request: LeadTime }) {
  if (r.mergeRequestIid === null || r.mergeRequestIid === undefined) return <>{NONE}</>;
  return <SourceLink url={r.url}>!{r.mergeRequestIid}</SourceLink>;
}

/** The columns of an application's requests; one of a project mapped on the application itself names no component. */
function columns(application: string): TableColumn<LeadTime>[] {
  return [
    { title: 'Merge request', render: r => <MergeRequest request={r} /> },
    { title: 'Title', render: r => r.title ?? NONE },
    { title: 'Component', render: r => r.componentId ?? application },
    { title: 'Merged', render: r => when(r.mergedAt) },
    { title: 'Deployed', render: r => when(r.deployedAt) },
    // Cut as the median beside it is: a request of 23.96 h never reads as elite's 24 h bound.
    { title: 'Lead time', render: r => cutHours(r.leadTimeHours) },
    { title: 'Rule', render: r => r.matchRule },
  ];
}

/**
 * The days the list covers, and from when it counts when the lake read deployments only later than the period's
 * start, as the DORA table's "read since".
 */
function shippedOver(list: LeadTimeList): string {
  const later = Date.parse(list.countedFrom) > Date.parse(list.period.start);
  return `${coveredDays(list.period)}${later ? `, deployments read since ${list.countedFrom.slice(0, 10)}` : ''}`;
}

/** The requests of `list` and what they are: the sample the lead time's median and p90 are taken over. */
function Requests({ list, application }: { list: LeadTimeList; application: string }) {
  const read = asRead(readUntilOf(RECORDS, list));
  const shipped = list.items.length === 1 ? 'merge request' : 'merge requests';
  return (
    <>
      <p>
        <strong data-testid="lead-time-requests">{list.items.length}</strong> {shipped} shipped over{' '}
        {shippedOver(list)}
        {read}: the lead time&apos;s median and p90 are taken over theirs.
      </p>
      <NamedTable<LeadTime>
        name={NAME}
        title={NAME}
        options={TITLED}
        columns={columns(application)}
        data={list.items}
      />
    </>
  );
}

/** The application whose lead time is shown, in the entity's environment, over the DORA card's period. */
type ListProps = { application: string; environment?: string; period: KpiPeriod };

/**
 * The merge requests an application's DORA lead time is taken over (the API's lead-times), over the DORA card's
 * period: asked for when the reader opens the list, and read page by page as the other lists are.
 */
export function LeadTimeRequests(props: ListProps) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  return (
    <div>
      <button type="button" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
        {open ? 'Hide' : 'Show'} the merge requests behind the lead time
      </button>
      <div id={listId}>{open && <OpenList {...props} />}</div>
    </div>
  );
}

/** The list opened: its own loading, empty, unknown and error states, as a widget's. */
function OpenList({ application, environment, period }: ListProps) {
  const entity: MonitoredEntity = { level: 'applications', id: application, environment };
  const state = useMonitoringData(
    api => api.getLeadTimes(entity, { period }),
    ['lead times', entity.level, application, environment, period],
  );
  return (
    <WidgetBody
      state={state}
      what="merge requests"
      isEmpty={list => list.items.length === 0}
      unknown={list => whyUnknown(list.state, GITLAB_NOT_MAPPED, "GitLab's merge requests")}
      readUntil={list => readUntilOf(RECORDS, list)}
      toSeeTheRest={SHORTER_PERIOD}
    >
      {list => <Requests list={list} application={application} />}
    </WidgetBody>
  );
}
