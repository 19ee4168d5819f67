import { ReactNode } from 'react';
import { MonitoringOptions, MonitoringOptionsProvider } from '../options';

export function WithOptions({ options, children }: { options: MonitoringOptions; children: ReactNode }) {
  return <MonitoringOptionsProvider value={options}>{children}</MonitoringOptionsProvider>;
}
