import { screen } from '@testing-library/react';
import { createExtensionTester, renderTestApp } from '@backstage/frontend-test-utils';
import plugin from './plugin';
import { answer, billingApiComponent, registerServer, renderWithApi, server } from './testing/monitoringServer';
import * as f from './testing/fixtures';

const extension = (id: string) => (plugin as any).getExtension(id);

describe('new frontend system plugin', () => {
  registerServer();

  it('provides the API, the tab, the health card and the page', () => {
    for (const id of [
      'api:rosetta-monitoring',
      'entity-content:rosetta-monitoring',
      'entity-card:rosetta-monitoring/health',
      'page:rosetta-monitoring',
    ]) {
      expect(extension(id)).toBeDefined();
    }
  });

  // The app's sidebar lists a page only when it has a title and an icon: without an icon the page is installed but
  // reachable only by typing its address.
  it("puts the page in the app's sidebar", async () => {
    renderTestApp({ features: [plugin] });
    const link = await screen.findByRole('link', { name: /Monitoring/ });
    expect(link).toHaveAttribute('href', '/rosetta-monitoring');
  });

  it('applies the thresholds from extension config to the health card', async () => {
    const failing = { ...f.summaryBillingApi, goldenSignals: { ...f.summaryBillingApi.goldenSignals, errorRate: 0.2 } };
    server.use(answer('/components/:id/summary', failing));
    const tester = createExtensionTester(extension('entity-card:rosetta-monitoring/health'), {
      config: { errorRateCritical: 0.5 },
    });
    await renderWithApi(tester.reactElement(), billingApiComponent);
    expect(await screen.findByTestId('health-colour')).toHaveTextContent('orange');
    expect(screen.getByText(/error rate 20.00% ≥ 1.00%/)).toBeInTheDocument();
  });
});
