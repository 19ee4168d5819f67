import { createRouteRef } from '@backstage/frontend-plugin-api';

/** The plugin's page (dashboard, SRE/DORA and run views). */
export const rootRouteRef = createRouteRef();
