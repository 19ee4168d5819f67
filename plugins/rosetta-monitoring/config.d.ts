export interface Config {
  /** Rosetta Monitoring plugin options (frontend). */
  rosettaMonitoring?: {
    /**
     * Path of the Backstage proxy entry that forwards to the monitoring API, e.g. "/rosetta", for the legacy
     * plugin. The new frontend system reads it from the API extension's config instead
     * (app.extensions: api:rosetta-monitoring: config: proxyPath), not from here.
     * The proxy entry adds the API key header; the browser never sees it.
     * @visibility frontend
     */
    proxyPath?: string;
  };
}
