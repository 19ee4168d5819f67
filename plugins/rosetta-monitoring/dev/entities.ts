import type { Entity } from '@backstage/catalog-model';

// Catalog entities of the demo estate (seed 42): the Profiles application, its API component and the team that
// owns them, as simulators/estate.py's catalog_entities describes them.
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

export const teamEgretGroup: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'team-egret' },
  spec: { type: 'team', parent: 'risk-it', children: [] },
};
