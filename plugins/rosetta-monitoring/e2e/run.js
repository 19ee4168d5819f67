#!/usr/bin/env node
// End-to-end check: the demo (simulators -> lake -> API) serves the real API, a proxy adds the key,
// the plugin's standalone app runs in headless Chromium, and the pages must show the estate's figures.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { startProxy } = require('./proxy');

const PLUGIN = path.resolve(__dirname, '..');
const REPO = path.resolve(PLUGIN, '../..');
const SHOTS = path.join(__dirname, 'screenshots');
const APP = 'http://localhost:3000';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const children = [];
const consoleErrors = [];

function start(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

function waitForLine(child, pattern, timeoutMs, name) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} not ready in ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = chunk => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', code => reject(new Error(`${name} exited with ${code}:\n${seen}`)));
  });
}

async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms`);
}

async function startDemo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rosetta-e2e-'));
  const cli = path.join(REPO, '.venv/bin/rosetta-monitoring');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ROSETTA_')));
  const demo = start(cli, ['demo', '--apps', '4', '--days', '10', '--port', '0', '--schedule-minutes', '0'], { cwd: dir, env });
  const [, base] = await waitForLine(demo, /READY (http:\/\/\S+)/, 400_000, 'demo');
  // NAME='value' lines: the key and the URL hold no quote or backslash, so they are single-quoted as they are.
  const values = Object.fromEntries(
    fs.readFileSync(path.join(dir, '.rosetta/demo.env'), 'utf8').trim().split('\n')
      .map(l => l.match(/^(\w+)='(.*)'$/s)).filter(Boolean).map(([, name, value]) => [name, value]),
  );
  // The reader key, as Backstage's proxy entry holds it.
  return { base, apiKey: values.ROSETTA_DEMO_READER_API_KEY };
}

/** Expected figures, read from the API directly (not through the UI). */
async function expectedFigures(base, apiKey) {
  const get = async p => {
    const res = await fetch(`${base}/monitoring${p}`, { headers: { 'X-API-Key': apiKey } });
    assert.equal(res.status, 200, `${p}: ${res.status}`);
    return res.json();
  };
  const summary = await get('/applications/profiles/summary');
  const incidents = await get('/applications/profiles/incidents?status=all&period=last_7d&limit=100');
  const deployments = await get('/applications/profiles/deployments?mode=history&period=last_7d&limit=100');
  const overview = await get('/overview?period=last_30d');
  const slo = await get('/kpis/slo?groupBy=team&period=last_30d&limit=100');
  const changes = await get('/kpis/changes?groupBy=team&period=last_30d&limit=100');
  // The dev app's team card is team-egret's (dev/entities.ts).
  const teamRisks = await get('/risk/top?team=team-egret&limit=100');
  return {
    name: summary.entity.name,
    health: summary.risk.health,
    reasons: summary.risk.reasons,
    openIncidents: incidents.items.filter(i => i.isOpen).length,
    deployments: deployments.items.length,
    // The latest deployment's finish, as the history table writes a time.
    lastDeployedAt: deployments.items[0]?.finishedAt.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC'),
    totals: Object.entries(overview.applicationsByHealth).map(([c, n]) => `${n} ${c}`).join(', '),
    topRisk: overview.topRisks[0].appName,
    sloTeams: slo.items.map(r => r.id),
    changeTeams: changes.items.map(r => r.id),
    teamApps: teamRisks.items.map(r => r.appName ?? r.appId),
  };
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const started = Date.now();
  const log = m => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(0)} s] ${m}`);

  const app = start(path.join(PLUGIN, 'node_modules/.bin/backstage-cli'), ['package', 'start', '--config', 'app-config.e2e.yaml'], {
    cwd: PLUGIN,
    env: { ...process.env, BROWSER: 'none', PORT: '3000' },
  });
  app.stdout.on('data', () => {});
  app.stderr.on('data', () => {});
  const { base, apiKey } = await startDemo();
  log(`demo API at ${base}`);
  const expected = await expectedFigures(base, apiKey);
  log(`expected ${JSON.stringify(expected)}`);
  const proxy = await startProxy({ port: 7007, target: base, apiKey, allowOrigin: APP });
  await waitForHttp(APP, 300_000);
  log('dev app is up');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    consoleErrors.length = 0;
    page.on('console', m => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('requestfailed', r => consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    const seenKey = [];
    page.on('request', r => {
      if (JSON.stringify(r.headers()).includes(apiKey) || r.url().includes(apiKey)) seenKey.push(r.url());
    });

    await page.goto(`${APP}/monitoring-tab`);
    // The dev app asks for a sign-in method; with no auth backend, accept the local guest identity.
    page.on('dialog', dialog => dialog.accept());
    await page.getByRole('button', { name: /enter/i }).click({ timeout: 60_000 });
    await page.getByTestId('health-colour').waitFor({ timeout: 40_000 });
    assert.equal(await page.getByTestId('health-colour').innerText(), expected.health);
    for (const reason of expected.reasons) await page.getByText(reason).first().waitFor();
    await page.getByTestId('open-incidents').waitFor();
    assert.equal(await page.getByTestId('open-incidents').innerText(), String(expected.openIncidents));
    await page.getByTestId('deployments-count').waitFor();
    assert.equal(await page.getByTestId('deployments-count').innerText(), String(expected.deployments));
    if (expected.lastDeployedAt) await page.getByRole('cell', { name: expected.lastDeployedAt }).first().waitFor();
    await page.getByText(expected.name, { exact: false }).first().waitFor();
    await page.getByTestId('signal-latency_p95').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'monitoring-tab.png'), fullPage: true });
    log('monitoring tab shows the estate figures');

    await page.goto(`${APP}/health-card`);
    // Two cards (the system, then its API component) load independently: wait for both, or the first to
    // answer (the component's) would be read as the system's.
    await page.getByTestId('health-colour').nth(1).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('health-colour').first().innerText(), expected.health);
    await page.screenshot({ path: path.join(SHOTS, 'health-card.png'), fullPage: true });
    log('health card shows the estate figures');

    await page.goto(`${APP}/team-card`);
    await page.getByRole('columnheader', { name: 'Error budget left' }).waitFor({ timeout: 60_000 });
    await page.getByText('Change failure rate').first().waitFor({ timeout: 30_000 });
    // The team's applications, the riskiest first, in the first table (the SLO and DORA tables name the team).
    const riskRows = page.getByRole('table').first().getByRole('row');
    await riskRows.nth(expected.teamApps.length).waitFor({ timeout: 30_000 });
    for (const [i, name] of expected.teamApps.entries()) {
      await riskRows.nth(i + 1).getByRole('cell', { name, exact: true }).waitFor();
    }
    await page.getByRole('cell', { name: 'team-egret', exact: true }).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'team-card.png'), fullPage: true });
    log('team card shows the team figures');

    await page.goto(`${APP}/dashboard`);
    await page.getByTestId('health-totals').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('health-totals').innerText(), expected.totals);
    await page.getByText(expected.topRisk).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
    await page.getByRole('tab', { name: 'SRE / DORA' }).click();
    await page.getByText('Change failure rate').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(SHOTS, 'dora.png'), fullPage: true });
    await page.getByRole('tab', { name: 'SLO', exact: true }).click();
    await page.getByRole('columnheader', { name: 'Error budget left' }).waitFor({ timeout: 30_000 });
    for (const team of expected.sloTeams) await page.getByRole('cell', { name: team, exact: true }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'slo.png'), fullPage: true });
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByRole('table', { name: 'incident heatmap' }).waitFor({ timeout: 30_000 });
    const calendar = page.getByRole('table', { name: 'change calendar' });
    await calendar.waitFor({ timeout: 30_000 });
    assert.deepEqual(await calendar.getByRole('rowheader').allInnerTexts(), expected.changeTeams);
    await page.screenshot({ path: path.join(SHOTS, 'run.png'), fullPage: true });
    log('dashboard, DORA, SLO and run views show the estate figures');

    assert.deepEqual(seenKey, [], 'the browser must never send the API key');
  } catch (error) {
    const page = browser.contexts()[0]?.pages()[0];
    if (page) {
      await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
      console.error(`page text at failure:\n${(await page.innerText('body').catch(() => '')).slice(0, 3000)}`);
      console.error(`browser errors:\n${consoleErrors.slice(0, 20).join('\n')}`);
    }
    throw error;
  } finally {
    await browser.close();
    proxy.close();
  }
}

main()
  .then(() => {
    stopAll();
    console.log(`e2e passed; screenshots in ${SHOTS}`);
    process.exit(0);
  })
  .catch(error => {
    stopAll();
    console.error(error);
    process.exit(1);
  });
