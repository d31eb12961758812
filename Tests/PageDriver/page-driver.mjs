// Drives Debian's headless Chromium over the DevTools protocol for the page tests. No dependencies:
// Node's own WebSocket (node --experimental-websocket on Node 20).
//   node --experimental-websocket page-driver.mjs STEPS.json
// STEPS.json: {"chromium": "/usr/bin/chromium", "viewport": [1024, 600], "steps": [...]}, each step one of
//   {"open": URL}                        load a page and wait for its load event
//   {"waitFor": CSS, "timeoutMs": N}     until an element matches (default 10 s)
//   {"tap": CSS}                         a real mouse press and release at the element's centre
//   {"dom": FILE}                        write document.documentElement.outerHTML
//   {"screenshot": FILE}                 write a PNG of the viewport
//   {"signal": PID, "name": "SIGUSR1"}   send a signal to a process (e.g. plug a scanner in)
//   {"headers": {NAME: VALUE}}           send these headers with every later request (e.g. Authorization)
//   {"run": [PROGRAM, ARG...]}           run a program to its end (e.g. the POS sending a sale); fails unless it exits 0
// Exits 0 when every step passed; otherwise prints the failing step and exits 1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'page-driver-'));
const [width, height] = plan.viewport ?? [1024, 600];
const browser = spawn(plan.chromium ?? 'chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
  '--remote-debugging-port=0', `--user-data-dir=${profile}`, `--window-size=${width},${height}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });
browser.stderr.on('data', () => {});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function finish(code, message) {
  if (message) console.error(message);
  browser.kill('SIGKILL');
  try { rmSync(profile, { recursive: true, force: true }); } catch {}
  process.exit(code);
}
setTimeout(() => finish(1, 'page-driver: gave up after 90 s'), 90_000).unref();

// Chromium writes its DevTools port and browser path into the profile.
let endpoint;
for (let i = 0; i < 200 && !endpoint; i++) {
  const file = join(profile, 'DevToolsActivePort');
  if (existsSync(file)) {
    const [port, path] = readFileSync(file, 'utf8').split('\n');
    if (port && path) endpoint = `ws://127.0.0.1:${port}${path}`;
  }
  if (!endpoint) await sleep(100);
}
if (!endpoint) finish(1, 'page-driver: chromium did not start (is it installed?)');

const socket = new WebSocket(endpoint);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
let nextId = 1;
const pending = new Map();
const waiters = [];
socket.onmessage = (message) => {
  const data = JSON.parse(message.data);
  if (data.id && pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    data.error ? reject(new Error(data.error.message)) : resolve(data.result);
  } else if (data.method) {
    for (const waiter of waiters.splice(0)) waiter(data) || waiters.push(waiter);
  }
};
function send(method, params = {}, sessionId) {
  const id = nextId++;
  socket.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function event(name) {
  return new Promise((resolve) => waiters.push((data) => (data.method === name ? (resolve(data), true) : false)));
}

const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
const page = (method, params) => send(method, params, sessionId);
await page('Page.enable');
await page('Runtime.enable');
await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
const evaluate = async (expression) => {
  const result = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (result.exceptionDetails) throw new Error(result.exceptionDetails.text);
  return result.result.value;
};

for (const [index, step] of plan.steps.entries()) {
  try {
    if (step.open) {
      const loaded = event('Page.loadEventFired');
      await page('Page.navigate', { url: step.open });
      await loaded;
    } else if (step.waitFor) {
      const deadline = Date.now() + (step.timeoutMs ?? 10_000);
      while (!(await evaluate(`!!document.querySelector(${JSON.stringify(step.waitFor)})`))) {
        if (Date.now() > deadline) throw new Error(`nothing matched ${step.waitFor}`);
        await sleep(100);
      }
    } else if (step.tap) {
      const box = await evaluate(`(() => { const r = document.querySelector(${JSON.stringify(step.tap)}).getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
      for (const type of ['mousePressed', 'mouseReleased']) {
        await page('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
      }
    } else if (step.dom) {
      writeFileSync(step.dom, await evaluate('document.documentElement.outerHTML'));
    } else if (step.screenshot) {
      const { data } = await page('Page.captureScreenshot', { format: 'png' });
      writeFileSync(step.screenshot, Buffer.from(data, 'base64'));
    } else if (step.headers) {
      await page('Network.enable');
      await page('Network.setExtraHTTPHeaders', { headers: step.headers });
    } else if (step.signal) {
      process.kill(step.signal, step.name ?? 'SIGUSR1');
    } else if (step.run) {
      const result = spawnSync(step.run[0], step.run.slice(1), { encoding: 'utf8', timeout: 30_000 });
      if (result.status !== 0) throw new Error(`exit ${result.status}: ${result.stderr}${result.stdout}`);
    } else {
      throw new Error('unknown step');
    }
  } catch (error) {
    finish(1, `page-driver: step ${index + 1} ${JSON.stringify(step)} failed: ${error.message}`);
  }
}
finish(0);
