#!/usr/bin/env node
// The compose.yaml topology as plain processes on this machine: one scheduler that only schedules, workers, and
// optionally the web UI. Every process reads the project file and the environment (MEDALLION_DB,
// MEDALLION_S3_*), as the containers do. The fleet tests start their processes with this script.
//
//   node deploy/processes/fleet.mjs start --dir DIR [--config FILE] [--worker NAME[:QUEUES]]... [--serve PORT]
//                                      [--arg FLAG]... [--no-scheduler]
//   node deploy/processes/fleet.mjs stop --dir DIR [--grace-ms MS]
//   node deploy/processes/fleet.mjs status --dir DIR
//
// start: each process's log goes to DIR/NAME.log and its PID to DIR/NAME.pid; default workers: worker-1 and
// worker-2 on the `default` queue. `--arg` is passed to every process (e.g. --arg=--heartbeat-ms=500).
// --no-scheduler starts workers (and serve) only: more of them beside a fleet already running.
// stop: SIGTERM to each (they drain: running tasks finish or are handed back), SIGKILL after the grace period.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.MEDALLION_BIN ?? path.resolve(here, '../../dist/cli/main.js');

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    config: { type: 'string' },
    worker: { type: 'string', multiple: true },
    serve: { type: 'string' },
    arg: { type: 'string', multiple: true },
    'grace-ms': { type: 'string' },
    'no-scheduler': { type: 'boolean' },
  },
});

function die(message) {
  process.stderr.write(`fleet: ${message}\n`);
  process.exit(2);
}

const command = positionals[0];
const dir = values.dir ?? die('--dir DIR is required (where logs and PIDs go)');

/** The processes of the topology: name → medallion arguments. */
function topology() {
  const common = [...(values.config ? ['--config', values.config] : []), ...(values.arg ?? [])];
  const workers = values.worker ?? ['worker-1', 'worker-2'];
  const members = values['no-scheduler'] ? [] : [['scheduler', ['scheduler', '--no-execute', ...common]]];
  for (const spec of workers) {
    const [name, queues] = spec.split(':');
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) die(`bad worker name ${JSON.stringify(name)}`);
    members.push([name, ['worker', '--name', name, ...(queues ? ['--queues', queues] : []), ...common]]);
  }
  if (values.serve) {
    members.push(['serve', ['serve', '--no-execute', '--port', values.serve, ...common]]);
  }
  return members;
}

function pids() {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => ({ name: file.slice(0, -4), pid: Number(readFileSync(path.join(dir, file), 'utf8')) }));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function start() {
  if (!existsSync(bin)) die(`${bin} does not exist: run npm run build first (or set MEDALLION_BIN)`);
  mkdirSync(dir, { recursive: true });
  for (const [name, args] of topology()) {
    const log = openSync(path.join(dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [bin, ...args], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    writeFileSync(path.join(dir, `${name}.pid`), String(child.pid));
    child.unref();
    process.stdout.write(`${name}\t${child.pid}\tmedallion ${args.join(' ')}\n`);
  }
}

async function stop() {
  const graceMs = Number(values['grace-ms'] ?? 70_000);
  const members = pids().filter(({ pid }) => alive(pid));
  for (const { pid } of members) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (members.some(({ pid }) => alive(pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const { name, pid } of members.filter(({ pid }) => alive(pid))) {
    process.stderr.write(`fleet: ${name} (${pid}) did not stop within ${graceMs} ms: SIGKILL\n`);
    process.kill(pid, 'SIGKILL');
  }
}

function status() {
  for (const { name, pid } of pids())
    process.stdout.write(`${name}\t${pid}\t${alive(pid) ? 'running' : 'gone'}\n`);
}

if (command === 'start') start();
else if (command === 'stop') await stop();
else if (command === 'status') status();
else die('usage: fleet.mjs start|stop|status --dir DIR (see the comment at the top of this file)');
