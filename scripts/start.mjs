#!/usr/bin/env node
/**
 * `npm start`: builds what is missing of the server and the web app, saying what it does while it
 * does it (the first build takes a while and would otherwise print nothing), then runs the server
 * in this terminal. turbo's own output is kept back and shown only if the build fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TURBO = fileURLToPath(new URL('../node_modules/.bin/turbo', import.meta.url));
const SERVER = fileURLToPath(new URL('../apps/api/dist/server.js', import.meta.url));
/** While a build runs, a line at least this often says it still does. */
const STILL_BUILDING_EVERY_MS = 10_000;

const say = (text) => process.stdout.write(`roomcast: ${text}\n`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const plain = (line) => line.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the build; resolves with turbo's exit code once it has said what it built. */
function build() {
  const started = Date.now();
  say('building the server and the web app (a first build takes 20-40 s; later ones reuse it)');
  const turbo = spawn(
    TURBO,
    ['run', 'build', '--filter=@roomcast/api', '--filter=@roomcast/web', '--output-logs=new-only'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  const output = [];
  const built = [];
  const reused = [];
  let pending = '';
  const read = (chunk) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      const line = plain(raw);
      output.push(line);
      const task = /^(\S+?):build: cache (hit|miss|bypass)/.exec(line);
      if (!task) continue;
      if (task[2] === 'hit') {
        reused.push(task[1]);
      } else {
        built.push(task[1]);
        say(`building ${task[1]} (${seconds(started)})`);
      }
    }
  };
  turbo.stdout.on('data', read);
  turbo.stderr.on('data', read);
  const ticker = setInterval(() => say(`still building (${seconds(started)})`), STILL_BUILDING_EVERY_MS);
  return new Promise((resolve) => {
    turbo.on('error', (error) => {
      clearInterval(ticker);
      say(`could not run turbo (${error.message}): run npm install first`);
      resolve(1);
    });
    turbo.on('close', (code) => {
      clearInterval(ticker);
      if (pending !== '') output.push(plain(pending));
      if (code !== 0) {
        process.stderr.write(`${output.join('\n')}\n`);
        say(`the build failed (exit code ${code}); its output is above`);
        resolve(code ?? 1);
        return;
      }
      const what = built.length === 0 ? 'nothing to rebuild' : `built ${built.length} packages`;
      say(`${what}${reused.length > 0 ? `, ${reused.length} up to date` : ''}, in ${seconds(started)}; starting the server`);
      resolve(0);
    });
  });
}

/** Runs the server in this terminal; exits with it. A stop signal is passed on once. */
function serve() {
  const server = spawn(process.execPath, [SERVER], { cwd: REPO, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (server.exitCode === null && server.signalCode === null) server.kill(signal);
    });
  }
  server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const code = await build();
if (code === 0) serve();
else process.exit(code);
