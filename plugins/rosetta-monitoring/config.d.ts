export interface Config {
  /** Rosetta Monitoring plugin options (frontend). */
  rosettaMonitoring?: {
    /**
     * Path of the Backstage proxy entry that forwards to the monitoring API, e.g. "/rosetta".
     * The proxy entry adds the API key header; the browser never sees it.
     * @visibility frontend
     */
    proxyPath?: string;
  };
}
