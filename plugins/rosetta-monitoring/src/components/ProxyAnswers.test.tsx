import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { API, billingApiComponent, registerServer, renderWithApi, server } from '../__testUtils__/monitoringServer';
import { HealthCard } from './HealthCard';

/** The health card's error title once the summary's request is answered by `reply`. */
async function errorTitleFor(reply: () => Response) {
  server.use(http.get(`${API}/components/:id/summary`, reply));
  await renderWithApi(<HealthCard />, billingApiComponent);
  // The error panel's summary reads "Error: <title>".
  const summary = await screen.findByText(/^Error: Could not load health: /);
  return summary.textContent?.replace(/^Error: /, '');
}

/** Backstage's backend's own error answer, {error, request, response}, as its proxy gives it. */
function backstageError(status: number, name: string, message: string) {
  return HttpResponse.json(
    {
      error: { name, message },
      request: { method: 'GET', url: '/api/proxy/rosetta/monitoring/components/x/summary' },
      response: { statusCode: status },
    },
    { status },
  );
}

// What a reader sees when the answer is not the API's: no answer at all, or Backstage (or what stands in front of the
// API) refusing the request. Each says who refused and what to do, not the browser's or a server's bare words.
describe('answers that do not come from the monitoring API', () => {
  registerServer();

  it('says the proxy entry gave no answer when the request fails on the network', async () => {
    const title = await errorTitleFor(() => HttpResponse.error());
    expect(title).toMatch(/^Could not load health: no answer through the proxy entry \/rosetta: /);
    expect(title).toContain("the network or Backstage's backend is down");
  });

  it("says Backstage refused an unsigned request when its proxy answers its own 401", async () => {
    const title = await errorTitleFor(() => backstageError(401, 'AuthenticationError', 'Missing credentials'));
    expect(title).toBe(
      'Could not load health: Backstage refused the request as not signed in ' +
        '(401 Unauthorized: Missing credentials): sign in again',
    );
  });

  it('says Backstage does not let the user use its proxy entry on its own 403', async () => {
    const title = await errorTitleFor(() => backstageError(403, 'NotAllowedError', 'Access denied'));
    expect(title).toBe(
      'Could not load health: Backstage does not let you use its proxy entry for the monitoring API ' +
        '(403 Forbidden: Access denied)',
    );
  });

  it('says a sign-in page answered, not that the API may be down, on a 401 web page', async () => {
    const signIn = '<html><body>Sign in</body></html>';
    const title = await errorTitleFor(
      () => new HttpResponse(signIn, { status: 401, headers: { 'Content-Type': 'text/html' } }),
    );
    expect(title).toBe(
      'Could not load health: a sign-in or access page answered (401 Unauthorized, text/html), not the monitoring ' +
        'API: sign in again, or ask for access',
    );
  });

  it("says the API's gateway refused the proxy entry's credential on its 401", async () => {
    // API Gateway's JWT authorizer answers {"message": "Unauthorized"} to an expired token.
    const title = await errorTitleFor(() => HttpResponse.json({ message: 'Unauthorized' }, { status: 401 }));
    expect(title).toBe(
      "Could not load health: the monitoring API's gateway refused the credential Backstage's proxy entry sends " +
        "(401 Unauthorized: Unauthorized): the key or token in the proxy entry's headers is wrong or has expired",
    );
  });

  it('says to check the proxy entry when a 404 is not the API\'s own', async () => {
    // Backstage's answer to a path under /api/proxy that no proxy entry serves.
    const title = await errorTitleFor(() => backstageError(404, 'NotFoundError', 'No such proxy route'));
    expect(title).toBe(
      'Could not load health: nothing answered this path as the monitoring API does (404 Not Found: No such ' +
        "proxy route): check that Backstage's proxy has the entry the plugin uses and that its target is the API's " +
        'base URL',
    );
  });

  it("says to check the proxy entry's base path when the API has no endpoint at the path", async () => {
    // The API's own 404 for a path it has no endpoint at: the entry's target is its host with another base path.
    const title = await errorTitleFor(() =>
      HttpResponse.json(
        { type: 'about:blank', title: 'Not found', status: 404, detail: 'Not Found', instance: '/v1/x' },
        { status: 404, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    expect(title).toBe(
      'Could not load health: the monitoring API has no endpoint at this path (404 Not Found: Not Found): check ' +
        "that the target of Backstage's proxy entry is the API's base URL, its base path included",
    );
  });

  it("still shows the API's own 401 problem detail, saying the proxy entry sends the key", async () => {
    const title = await errorTitleFor(() =>
      HttpResponse.json(
        { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'a valid API key is required' },
        { status: 401, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    expect(title).toBe(
      "Could not load health: a valid API key is required: the API key or token is the one Backstage's proxy entry " +
        'for the monitoring API sends in its headers (X-API-Key, or Authorization: Bearer): set or correct it there',
    );
  });

  // The API's words for a key it does not know, and for a request with none (a proxy entry without its headers).
  it.each(['unknown API key', 'send an API key in X-API-Key or a bearer token in Authorization'])(
    "names the proxy entry's headers beside the API's 401 %p",
    async detail => {
      const title = await errorTitleFor(() =>
        HttpResponse.json(
          { type: 'about:blank', title: 'Unauthorized', status: 401, detail },
          { status: 401, headers: { 'Content-Type': 'application/problem+json' } },
        ),
      );
      expect(title).toMatch(new RegExp(`^Could not load health: ${detail}: `));
      expect(title).toContain("Backstage's proxy entry for the monitoring API sends in its headers");
    },
  );

  it("shows another problem of the API in its own words alone", async () => {
    const title = await errorTitleFor(() =>
      HttpResponse.json(
        { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'cursor is not valid' },
        { status: 400, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    expect(title).toBe('Could not load health: cursor is not valid');
  });
});
