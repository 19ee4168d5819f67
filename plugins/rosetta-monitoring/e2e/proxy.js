// Stands in for the Backstage backend's proxy: forwards /api/proxy/rosetta/* to the monitoring
// API and adds the API key header, so the browser never holds the key.
const http = require('node:http');

// As Backstage's proxy lets them through: the CORS-safelisted caching headers both ways (the API's Cache-Control
// tells the browser how long to keep an answer), and those the README's proxy entry allows (allowedHeaders): the
// plugin's If-None-Match to the API, and the API's ETag and Retry-After back. Without them the API never answers 304
// and a wait reads as an error.
const SAFELISTED = ['cache-control', 'expires', 'last-modified', 'pragma'];
const REQUEST_HEADERS = [...SAFELISTED, 'if-none-match'];
const ANSWER_HEADERS = [...SAFELISTED, 'etag', 'retry-after'];

/** The headers of `from` named in `names` (lower case, as Node gives them) that it has. */
function picked(from, names) {
  return Object.fromEntries(names.filter(name => from[name] !== undefined).map(name => [name, from[name]]));
}

function startProxy({ port, target, apiKey, allowOrigin }) {
  const prefix = '/api/proxy/rosetta/';
  const server = http.createServer((req, res) => {
    const cors = {
      'Access-Control-Allow-Origin': allowOrigin,
      'Access-Control-Allow-Headers': 'Accept, Content-Type, Authorization, If-None-Match',
      'Access-Control-Allow-Methods': 'GET, OPTIONS',
      // The dev app is served from another port: the browser shows the plugin only the headers exposed.
      'Access-Control-Expose-Headers': 'ETag, Retry-After',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    if (!req.url.startsWith(prefix) || req.method !== 'GET') {
      res.writeHead(404, cors);
      res.end();
      return;
    }
    const url = new URL(req.url.slice(prefix.length - 1), target);
    // A connection per request: Node's global agent keeps connections alive, and one reused just as the API's
    // server closes it for being idle (uvicorn, after 5 s) fails the request with "socket hang up".
    const headers = { Accept: 'application/json', 'X-API-Key': apiKey, ...picked(req.headers, REQUEST_HEADERS) };
    const upstream = http.get(url, { agent: false, headers }, answer => {
      if (answer.statusCode >= 400) {
        // Shown in the check's output, so a failed view can be traced to the API's answer.
        let body = '';
        answer.on('data', chunk => {
          body += chunk;
        });
        answer.on('end', () => console.log(`proxy: ${answer.statusCode} for ${url.pathname}${url.search}: ${body.slice(0, 300)}`));
      }
      res.writeHead(answer.statusCode, {
        ...cors,
        'Content-Type': answer.headers['content-type'] ?? 'application/json',
        ...picked(answer.headers, ANSWER_HEADERS),
      });
      answer.pipe(res);
    });
    upstream.on('error', error => {
      console.log(`proxy: ${url.pathname}${url.search} failed: ${error}`);
      res.writeHead(502, cors);
      res.end(String(error));
    });
  });
  return new Promise(resolve => server.listen(port, () => resolve(server)));
}

module.exports = { startProxy };
