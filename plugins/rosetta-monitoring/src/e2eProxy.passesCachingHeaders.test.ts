/**
 * @jest-environment node
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// The e2e runner's stand-in for Backstage's proxy (a CommonJS script beside the runner).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startProxy } = require('../e2e/proxy');

/** What the API answers: its caching headers, as functions/api gives them to a historized read. */
const API_ANSWER = {
  'Content-Type': 'application/json',
  'Cache-Control': 'private, max-age=60',
  ETag: 'W/"build-42"',
};

type Answer = { status: number; headers: http.IncomingHttpHeaders };

/** GETs `url` with `headers`, as the browser asks the proxy. */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, answer => {
        answer.resume();
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers }));
      })
      .on('error', reject);
  });
}

const portOf = (server: http.Server) => (server.address() as AddressInfo).port;

// Backstage's proxy lets Cache-Control through both ways (a CORS-safelisted header); the e2e proxy dropped the
// API's, so the browser neither kept an answer its minute nor revalidated it as the API asks.
describe("the e2e proxy, in place of Backstage's", () => {
  let api: http.Server;
  let proxy: http.Server;
  const heard: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      heard.push(req.headers);
      if (req.headers['if-none-match'] === API_ANSWER.ETag) {
        res.writeHead(304, { 'Cache-Control': API_ANSWER['Cache-Control'], ETag: API_ANSWER.ETag });
        res.end();
        return;
      }
      res.writeHead(200, API_ANSWER);
      res.end('{}');
    });
    await new Promise<void>(resolve => api.listen(0, resolve));
    proxy = await startProxy({
      port: 0,
      target: `http://127.0.0.1:${portOf(api)}`,
      apiKey: 'reader-key',
      allowOrigin: 'http://localhost:3000',
    });
  });

  afterAll(async () => {
    await new Promise(resolve => proxy.close(resolve));
    await new Promise(resolve => api.close(resolve));
  });

  const url = () => `http://127.0.0.1:${portOf(proxy)}/api/proxy/rosetta/monitoring/overview`;

  it("passes the API's Cache-Control and ETag to the browser", async () => {
    const answer = await get(url());
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('private, max-age=60');
    expect(answer.headers.etag).toBe('W/"build-42"');
  });

  it("passes the browser's If-None-Match and Cache-Control to the API, and its 304 back with its headers", async () => {
    const answer = await get(url(), { 'If-None-Match': 'W/"build-42"', 'Cache-Control': 'max-age=0' });
    expect(answer.status).toBe(304);
    expect(answer.headers['cache-control']).toBe('private, max-age=60');
    expect(answer.headers.etag).toBe('W/"build-42"');
    expect(heard[heard.length - 1]).toMatchObject({ 'if-none-match': 'W/"build-42"', 'cache-control': 'max-age=0' });
  });
});
