import type { Entity } from '@backstage/catalog-model';

// Catalog entities of the demo estate (seed 42): the Profiles application and its API component,
// as simulators/estate.py's catalog_entities describes them.
export const profilesSystem: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'System',
  metadata: { name: 'profiles', title: 'Profiles' },
  spec: { owner: 'group:default/team-egret', domain: 'commerce' },
};

export const profilesApiComponent: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'profiles-api', annotations: { 'argocd/app-name': 'profiles-api-prod' } },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-egret', system: 'profiles' },
};
