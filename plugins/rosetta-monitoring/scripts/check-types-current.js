#!/usr/bin/env node
// Fails when src/api/schema.generated.ts differs from what docs/openapi.json generates,
// i.e. when the monitoring API and the plugin disagree on the response shapes.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const spec = path.resolve(root, '../../docs/openapi.json');
const committed = path.join(root, 'src/api/schema.generated.ts');
const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rosetta-types-')), 'schema.generated.ts');

execFileSync(path.join(root, 'node_modules/.bin/openapi-typescript'), [spec, '-o', fresh], { stdio: 'ignore' });
if (fs.readFileSync(fresh, 'utf8') !== fs.readFileSync(committed, 'utf8')) {
  console.error(
    'src/api/schema.generated.ts is not what docs/openapi.json generates.\n' +
      'Run `npm run types:generate` in plugins/rosetta-monitoring and review the changes.',
  );
  process.exit(1);
}
console.log('API types are current with docs/openapi.json');
