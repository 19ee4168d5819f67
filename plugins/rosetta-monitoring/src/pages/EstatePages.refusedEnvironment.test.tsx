import { screen } from '@testing-library/react';
import { answer, problem, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import * as f from '../__testUtils__/fixtures';
import { DoraPage } from './DoraPage';

// A link shared before the estate's staging environment was renamed: the API no longer knows the one it names.
const REFUSED = "no entity is mapped in environment 'stagging'; the mapping's environments are production, staging";

describe('an estate page asked for an environment the mapping does not have', () => {
  registerServer();

  it('says to choose another in the picker, not to correct an entity annotation the page has none of', async () => {
    server.use(
      answer('/overview', { ...f.overview, environments: ['production', 'staging'], productionEnvironment: 'production' }),
      problem('/kpis/dora', 404, 'Unknown environment', REFUSED),
    );
    await renderWithApi(<DoraPage />, undefined, '/rosetta-monitoring?environment=stagging');
    expect(await screen.findByText('Not a valid environment')).toBeInTheDocument();
    expect(screen.getByText(/refuses the environment asked for/)).toHaveTextContent(
      `The monitoring API refuses the environment asked for: ${REFUSED}. Choose one of the environments the picker lists.`,
    );
    expect(screen.queryByText(/rosetta.io\/environment annotation/)).not.toBeInTheDocument();
  });
});
