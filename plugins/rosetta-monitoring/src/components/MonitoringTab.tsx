import { ReactNode } from 'react';
import { CodeSnippet, EmptyState } from '@backstage/core-components';
import type { MonitoredEntity, Period } from '../api/types';
import { APP_ID_ANNOTATION, ENVIRONMENT_ANNOTATION, MONITORING_ID_ANNOTATION } from '../entityId';
import { useChoiceParam } from '../pages/queryParams';
import { useMonitoredEntity } from './common/EntityContext';
import { missingFrom } from './common/problems';
import { useMonitoringData } from './common/useMonitoringData';
import { Announced } from './common/WidgetState';
import { ENTITY_PERIODS, PeriodPicker } from './PeriodPicker';
import { GoldenSignalsCard } from './GoldenSignalsCard';
import { SloCard } from './SloCard';
import { IncidentsCard } from './IncidentsCard';
import { ChangesCard } from './ChangesCard';
import { DeploymentsCard } from './DeploymentsCard';
import { LogsLinkCard } from './LogsLinkCard';
import { EntityDoraCard } from './EntityDoraCard';
import { HealthCard } from './HealthCard';

const PRODUCTION = "the estate's production environment (the monitoring API's default)";

/** The annotations that tie a catalog entity to its mapping entry, as the entity's catalog-info.yaml sets them. */
const ANNOTATIONS_YAML = `metadata:
  annotations:
    ${APP_ID_ANNOTATION}: <its id in the mapping>
    ${ENVIRONMENT_ANNOTATION}: <its environment in the mapping>`;

/**
 * An entity the mapping does not know: every widget would say so. Said once for the page, with how to map it, as
 * Backstage's entity pages do for a missing annotation.
 */
function NotMapped({ entity, detail }: { entity: MonitoredEntity; detail: string }) {
  return (
    <Announced>
      <EmptyState
        missing="field"
        title="No mapping for this entity"
        description={
          `The monitoring API has no mapping for this entity (${detail}), asked for as ${entity.id} in ` +
          `${entity.environment ?? PRODUCTION}: none of its monitoring can be shown.`
        }
        action={
          <>
            <ul>
              <li>
                Not in the mapping yet: an admin adds it, importing its catalog-info.yaml (rosetta-monitoring mappings
                import catalog-info.yaml) or a mapping file.
              </li>
              <li>Mapped under another id: set {APP_ID_ANNOTATION} to that id.</li>
              <li>Mapped in another environment: set {ENVIRONMENT_ANNOTATION} to it.</li>
            </ul>
            <CodeSnippet text={ANNOTATIONS_YAML} language="yaml" />
          </>
        }
      />
    </Announced>
  );
}

/** The annotation that sets the entity's id, as the catalog-info.yaml to correct sets it. */
const APP_ID_YAML = `metadata:
  annotations:
    ${APP_ID_ANNOTATION}: <its id in the mapping>`;

/** The annotation that sets the entity's environment, in any case: the API reads Production as production. */
const ENVIRONMENT_YAML = `metadata:
  annotations:
    ${ENVIRONMENT_ANNOTATION}: <its environment in the mapping>`;

/**
 * An id the API refuses (422: a rosetta.io/app-id annotation with a space, or too long): every widget asks with it,
 * and would say so. Said once for the page, with the annotation to correct.
 */
function NotAValidId({ entity, detail }: { entity: MonitoredEntity; detail: string }) {
  return (
    <Announced>
      <EmptyState
        missing="field"
        title="Not a valid entity id"
        description={
          `The monitoring API refuses this entity's id, ${entity.id} (${detail}): none of its monitoring can be ` +
          `shown. Correct the entity's ${APP_ID_ANNOTATION} annotation (or the former ${MONITORING_ID_ANNOTATION}) ` +
          'to its id in the mapping.'
        }
        action={<CodeSnippet text={APP_ID_YAML} language="yaml" />}
      />
    </Announced>
  );
}

/**
 * An environment the API refuses (422: longer than 63 characters) or does not know (404 "Unknown environment": no
 * entry is mapped in it, e.g. prod): the rosetta.io/environment annotation's, said once.
 */
function NotAValidEnvironment({ entity, detail }: { entity: MonitoredEntity; detail: string }) {
  return (
    <Announced>
      <EmptyState
        missing="field"
        title="Not a valid environment"
        description={
          `The monitoring API refuses this entity's environment, ${entity.environment ?? PRODUCTION} (${detail}): ` +
          `none of its monitoring can be shown. Correct the entity's ${ENVIRONMENT_ANNOTATION} annotation to an ` +
          "environment of the mapping, or remove it for the estate's production environment."
        }
        action={<CodeSnippet text={ENVIRONMENT_YAML} language="yaml" />}
      />
    </Announced>
  );
}

/**
 * The tab's content, unless the API does not know the entity or refuses how it is asked for: a 404 (no mapping, or
 * an unknown environment) or a 422 (its id or environment) of its summary (the health and SLO cards' request, shared
 * with them), which every widget would answer alike. The content is drawn again only when it changes, not with each
 * state of the summary.
 */
function UnlessRefused({ entity, children }: { entity: MonitoredEntity; children: ReactNode }) {
  const summary = useMonitoringData(
    api => api.getSummary(entity),
    ['summary', entity.level, entity.id, entity.environment],
  );
  const missing = summary.status === 'error' ? missingFrom(summary.error) : undefined;
  if (missing?.kind === 'mapping') return <NotMapped entity={entity} detail={missing.detail} />;
  if (missing?.kind === 'id') return <NotAValidId entity={entity} detail={missing.detail} />;
  if (missing?.kind === 'environment') return <NotAValidEnvironment entity={entity} detail={missing.detail} />;
  return <>{children}</>;
}

/**
 * The entity's "Monitoring" tab: its widgets, or one notice for an entity the mapping does not know, or whose id or
 * environment the API refuses.
 */
export function MonitoringTab() {
  const entity = useMonitoredEntity();
  return (
    <UnlessRefused entity={entity}>
      <MonitoringWidgets />
    </UnlessRefused>
  );
}

/** The tab's widgets. Its period is kept in the URL, as the estate pages keep theirs: a link to the tab sent during an
 * incident review opens on the period it was read over. */
function MonitoringWidgets() {
  const entity = useMonitoredEntity();
  const [period, setPeriod] = useChoiceParam<Period>('period', ENTITY_PERIODS, 'last_7d');
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <PeriodPicker period={period} onChange={setPeriod} />
      {/* The rosetta.io/environment annotation picks the environment every widget asks for: say it, as staging's
          figures look like production's. Without it the API answers for the estate's production environment. */}
      <p data-testid="monitoring-environment">
        Environment: <strong>{entity.environment ?? PRODUCTION}</strong>
      </p>
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: 16 }}>
        <HealthCard />
        <SloCard entity={entity} />
        <LogsLinkCard entity={entity} period={period} />
      </div>
      <GoldenSignalsCard entity={entity} period={period} />
      <DeploymentsCard entity={entity} period={period} />
      <IncidentsCard entity={entity} period={period} />
      <ChangesCard entity={entity} period={period} />
      <EntityDoraCard entity={entity} period={period} />
    </div>
  );
}
