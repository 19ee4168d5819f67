
import { Link, TableColumn } from '@backstage/core-components';
import { NamedTable } from './common/NamedTable';
import { TITLED } from './common/tableOptions';
import { StatusDot } from './common/StatusDot';
import type { Deployment, LiveComponent, LiveSourceState, MonitoredEntity, Period } from '../api/types';
import { useMonitoringData } from './common/useMonitoringData';
import { DEPLOYER_NOT_MAPPED, neverRead, Widget, whyUnknown } from './common/WidgetState';
import { SHORTER_PERIOD } from './common/TruncatedNotice';
import { NONE, when } from './common/format';
import { useMonitoringOptions } from '../options';
import { webAddress } from './common/webAddress';
import { DEPLOYMENT_SOURCES, SOURCE_LABELS } from './common/sources';
import { asRead, readUntilOf } from './common/readUntil';
import { SourceLink } from './common/SourceLink';

function ArgoStatus({ live }: { live: LiveComponent }) {
  // Nothing to warn of: the component is deployed otherwise (a GitLab job, say), ArgoCD has no status for it.
  if (!live.argocdApp) return <>no ArgoCD application mapped</>;
  const label = `${live.syncStatus ?? 'unknown'} / ${live.healthStatus ?? 'unknown'}`;
  if (live.syncStatus === 'Synced' && live.healthStatus === 'Healthy') return <StatusDot colour="green">{label}</StatusDot>;
  if (live.healthStatus === 'Degraded' || live.healthStatus === 'Missing') return <StatusDot colour="red">{label}</StatusDot>;
  if (live.healthStatus === 'Progressing') return <StatusDot colour="blue">{label}</StatusDot>;
  return <StatusDot colour="orange">{label}</StatusDot>;
}

/**
 * The application's page in ArgoCD's UI, built on the configured ArgoCD base. An application of another namespace than
 * ArgoCD's own (applications in any namespace) is at /applications/<namespace>/<name>; by its name alone the UI looks
 * in its own namespace.
 */
function argocdLink(base: string, live: LiveComponent): string {
  const namespace = live.argocdAppNamespace ? `${encodeURIComponent(live.argocdAppNamespace)}/` : '';
  return `${base.replace(/\/$/, '')}/applications/${namespace}${encodeURIComponent(live.argocdApp ?? '')}`;
}

/**
 * The API's own link to each ArgoCD application the period's deployments name (their `url`), by the application's
 * name. The live status carries none: its application's link is taken from there when a deployment of it gives one.
 */
function argocdLinksOf(deployments: Deployment[]): Map<string, string> {
  const links = new Map<string, string>();
  for (const d of deployments) {
    const url = webAddress(d.url);
    if (d.origin === 'argocd' && d.sourceRef && url && !links.has(d.sourceRef)) links.set(d.sourceRef, url);
  }
  return links;
}

/**
 * Where a deployment came from: its ArgoCD application, a link to it in ArgoCD when the API gives one; for a GitLab
 * deployment, its deploying pipeline's page. A GitLab project's id names nothing a reader knows, so a GitLab
 * deployment without a pipeline's web address shows none.
 */
function DeploymentSource({ deployment: d }: { deployment: Deployment }) {
  if (d.origin === 'argocd' && d.sourceRef) return <SourceLink url={d.url}>{d.sourceRef}</SourceLink>;
  if (d.origin === 'gitlab' && webAddress(d.url)) return <SourceLink url={d.url}>pipeline</SourceLink>;
  return <>{NONE}</>;
}

/** The last pipeline's status, a link to it when GitLab gave a web address (any other text is not made a link). */
function LastPipeline({ live }: { live: LiveComponent }) {
  const url = webAddress(live.lastPipelineUrl);
  if (!url) return <>{live.lastPipelineStatus ?? '–'}</>;
  return (
    <Link to={url}>
      {live.lastPipelineStatus ?? 'pipeline'} ({live.lastPipelineRef ?? '–'})
    </Link>
  );
}

type LiveSource = 'argocd' | 'gitlab';
const SOURCE_NAMES: Record<LiveSource, string> = { argocd: 'ArgoCD', gitlab: 'GitLab' };

/**
 * Whether the row's figures of `source` are history's: its state says so (a fallback, or the source not
 * configured). An answer without per-source states (an API before them) has only the row's `stale`.
 */
function fromHistory(live: LiveComponent, source: LiveSource): boolean {
  const state = live.sources?.[source]?.state;
  return state ? state === 'fallback' || state === 'not configured' : live.stale;
}

/** How old a value from history is (the source failed or is not configured): `what` happened `at`. */
function ReadAt({ history, what, at }: { history: boolean; what: string; at: string | null | undefined }) {
  return history && at ? <> ({what} {when(at)})</> : null;
}

/** What one source gave the row: live (fetched when), history's (and why), or nothing, as it is not mapped. */
function sourceAnswer(name: string, source: LiveSourceState): string {
  if (source.state === 'live') return `${name}: live${source.fetchedAt ? ` (fetched ${when(source.fetchedAt)})` : ''}`;
  if (source.state === 'not mapped') return `${name}: not mapped`;
  return `${name}: from history, ${source.reason ?? source.state}`;
}

/** Per source, whether the row's figures are live; the row's stale flag alone from an API without them. */
function LiveAnswer({ live }: { live: LiveComponent }) {
  const sources = live.sources;
  if (!sources) return <>{live.stale ? `stale: ${live.staleReason ?? 'source unreachable'}` : 'live'}</>;
  return (
    <>
      {(Object.keys(SOURCE_NAMES) as LiveSource[]).map(source => (
        <div key={source} data-testid={`live-${source}`}>
          {sourceAnswer(SOURCE_NAMES[source], sources[source])}
        </div>
      ))}
    </>
  );
}

/**
 * The revisions a component runs, as a person reads them: the API joins a multi-source application's revisions
 * (one per source) with a comma. A commit SHA reads by its first 8 characters; a tag or chart version stays whole.
 */
function shortRevisions(revision: string | null | undefined): string {
  if (!revision) return '–';
  return revision
    .split(',')
    .map(r => r.trim())
    .filter(Boolean)
    .map(r => (/^[0-9a-f]{40,64}$/i.test(r) ? r.slice(0, 8) : r))
    .join(', ');
}

/** The deployments of the period shown: the latest. */
const HISTORY_SHOWN = 10;

/**
 * Why a deployment is a change failure in full correlation mode, as the DORA figures count it: it failed, it was
 * rolled back, a change covering it failed (closed unsuccessful, or with a close code the lake counts as failed), or it
 * caused an incident.
 */
export function changeFailure(d: Deployment): string {
  if (!d.isChangeFailureFull) return 'no';
  const why = [
    d.status === 'failed' && 'failed',
    d.rolledBack && 'rolled back',
    d.changeUnsuccessful && 'change failed',
    d.incidentNumbersFull?.length && `caused ${d.incidentNumbersFull.join(', ')}`,
  ].filter(Boolean);
  return why.length ? why.join('; ') : 'yes';
}

/** When a change failure's service came back: not yet while it has not; nothing for a deployment that did not fail. */
function recovered(d: Deployment): string {
  if (!d.isChangeFailureFull) return NONE;
  return d.recoveredAtFull ? when(d.recoveredAtFull) : 'not yet';
}

/**
 * The period's last deployment in a sentence. An application without components deploys as itself (no component
 * id), and a deployment may have no status: the sentence names the application and says "–" rather than leaving gaps.
 */
function lastDeployment(d: Deployment): string {
  return `${d.componentId ?? d.appId} ${d.status ?? NONE} at ${when(d.finishedAt)}`;
}

const HISTORY_COLUMNS: TableColumn<Deployment>[] = [
  { title: 'Finished', render: d => when(d.finishedAt) },
  { title: 'Component', render: d => d.componentId ?? d.appId },
  { title: 'Source', render: d => <DeploymentSource deployment={d} /> },
  { title: 'Revision', render: d => shortRevisions(d.revision) },
  { title: 'Status', render: d => (d.isRollback ? `${d.status ?? NONE}, rollback` : d.status ?? NONE) },
  { title: 'Change failure', render: changeFailure },
  { title: 'Recovered', render: recovered },
  { title: 'Changes', render: d => d.changeNumbers?.join(', ') || NONE },
];

/** Where a GitLab deployment went, as GitLab names the environment (production/eu); ArgoCD names none. */
const GITLAB_ENVIRONMENT: TableColumn<Deployment> = {
  title: 'GitLab environment',
  render: d => d.sourceEnvironment ?? NONE,
};

/** Whether GitLab names the deployment's environment otherwise than the environment shown: a region of its folder. */
function inARegion(d: Deployment): boolean {
  return !!d.sourceEnvironment && d.sourceEnvironment.toLowerCase() !== d.environment?.toLowerCase();
}

/**
 * The history's columns. A GitLab project deploying to an environment folder counts both regions (production/eu,
 * production/us) in the environment shown: its GitLab environment, beside the component, tells them apart. An entity
 * only ArgoCD deploys, or GitLab to the environment itself (production), keeps the table it had.
 */
function historyColumns(shown: Deployment[]): TableColumn<Deployment>[] {
  if (!shown.some(inARegion)) return HISTORY_COLUMNS;
  const [finished, component, ...rest] = HISTORY_COLUMNS;
  return [finished, component, GITLAB_ENVIRONMENT, ...rest];
}

/** What the deployments' history calls its records when the lake read them only up to a time. */
const RECORDS = SOURCE_LABELS['deploys/deployment_events'];

/**
 * The live status's columns; `argocdLinkOf` gives a component's ArgoCD application's page, undefined when there is
 * none to link to.
 */
function liveColumns(argocdLinkOf: (live: LiveComponent) => string | undefined): TableColumn<LiveComponent>[] {
  return [
    { title: 'Component', field: 'componentId' },
    {
      title: 'ArgoCD (sync / health)',
      render: live => (
        <>
          <ArgoStatus live={live} />
          {live.argocdApp && <> <SourceLink url={argocdLinkOf(live)}>{live.argocdApp}</SourceLink></>}
          <ReadAt history={fromHistory(live, 'argocd')} what="read" at={live.statusObservedAt} />
        </>
      ),
    },
    { title: 'Revision', render: live => shortRevisions(live.revision) },
    { title: 'Last deployed', render: live => when(live.lastDeployedAt) },
    {
      title: 'Last pipeline',
      render: live => (
        <>
          <LastPipeline live={live} />
          <ReadAt history={fromHistory(live, 'gitlab')} what="updated" at={live.lastPipelineAt} />
        </>
      ),
    },
    { title: 'Live answer', render: live => <LiveAnswer live={live} /> },
  ];
}

/** Live deployment status per component (ArgoCD sync and health, last pipeline) and the period's deployments. */
export function DeploymentsCard({ entity, period }: { entity: MonitoredEntity; period: Period }) {
  const { argocdBaseUrl } = useMonitoringOptions();
  const state = useMonitoringData(
    api => Promise.all([api.getDeployments(entity, 'live', period), api.getDeployments(entity, 'history', period)]),
    ['live and past deployments', entity.level, entity.id, entity.environment, period],
  );
  return (
    <Widget
      title="Deployments"
      what="deployments"
      state={state}
      isEmpty={([live, history]) => (live.live ?? []).length + (history.items ?? []).length === 0}
      // Deployments never read hide nothing live: ArgoCD and GitLab answer the live status whatever the lake holds.
      // Not mapped, neither can answer: the API's live rows then say so per source, and the card says unknown.
      unknown={([live, history]) =>
        (live.live ?? []).length && history.state !== 'not mapped'
          ? null
          : whyUnknown(history.state, DEPLOYER_NOT_MAPPED, 'deployments')
      }
      freshness={([, history]) => history.freshness}
      readUntil={([, history]) => readUntilOf(RECORDS, history)}
      sources={DEPLOYMENT_SOURCES}
      toSeeTheRest={SHORTER_PERIOD}
    >
      {([live, history]) => {
        // The API's own link to an application, when it gives one, opens the ArgoCD the estate is read from; the
        // configured base serves when it gives none.
        const fromApi = argocdLinksOf(history.items ?? []);
        const argocdLinkOf = (l: LiveComponent) =>
          (l.argocdApp && fromApi.get(l.argocdApp)) || (argocdBaseUrl ? argocdLink(argocdBaseUrl, l) : undefined);
        // Read only up to a time: the count is as of then, later deployments of the source not read unknown.
        const read = asRead(readUntilOf(RECORDS, history));
        const shown = (history.items ?? []).slice(0, HISTORY_SHOWN);
        return (
          <>
            {(live.live ?? []).some(l => l.stale) && (
              <p role="status" style={{ color: '#b06000' }}>
                Stale live answer: {(live.live ?? []).filter(l => l.stale).map(l => `${l.componentId} (${l.staleReason ?? 'unknown'})`).join(', ')}
              </p>
            )}
            <NamedTable<LiveComponent>
              name="Live deployment status"
              title="Live status"
              options={TITLED}
              columns={liveColumns(argocdLinkOf)}
              data={live.live ?? []}
              emptyContent={<p style={{ padding: 8 }}>No live status for this entity.</p>}
            />
            {history.state === 'not read' ? (
              <p role="status">No deployments read yet: {neverRead('deployments')}</p>
            ) : (
              <>
                <p>
                  <strong data-testid="deployments-count">{(history.items ?? []).length}</strong>{' '}
                  {(history.items ?? []).length === 1 ? 'deployment' : 'deployments'} in the period{read}
                  {history.items?.[0] && <>; last: {lastDeployment(history.items[0])}</>}
                </p>
                <NamedTable<Deployment>
                  name="Deployment history"
                  title={(history.items ?? []).length > HISTORY_SHOWN ? `History (latest ${HISTORY_SHOWN} of ${history.items!.length})` : 'History'}
                  subtitle="Change failures as the DORA figures count them (full correlation)"
                  options={TITLED}
                  columns={historyColumns(shown)}
                  data={shown}
                  emptyContent={<p style={{ padding: 8 }}>No deployment in the period{read}.</p>}
                />
              </>
            )}
          </>
        );
      }}
    </Widget>
  );
}
