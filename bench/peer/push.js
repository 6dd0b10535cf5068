#!/usr/bin/env node
'use strict';
// One round of the peer for `python -m bench peer`: a local PouchDB (LevelDB)
// holding the records is pushed, one-shot, to a fresh remote database of
// express-pouchdb (server.js, LevelDB) on 127.0.0.1, once with PouchDB's
// default batches (100) and once with batch_size 500, optionally through
// slowlink.js. The timing, byte and request accounting are those of the
// harness's bench.js (shared/peer-pouchdb), minus its no-op and incremental
// steps, so a round is short enough to alternate with our engine.
//
//   node push.js --data FILE.jsonl [--batches 100,500] [--latency-ms 300 --kbps 256]
//
// Prints one JSON object on stdout; progress on stderr.

const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const PouchDB = require('pouchdb-node');
const { startSlowLink } = require('./slowlink');

function parseArgs(argv) {
  const a = { data: null, batches: [100, 500], latencyMs: null, kbps: 256, workdir: path.join('data', 'work') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--data') a.data = v();
    else if (k === '--batches') a.batches = v().split(',').map(Number);
    else if (k === '--latency-ms') a.latencyMs = Number(v());
    else if (k === '--kbps') a.kbps = Number(v());
    else if (k === '--workdir') a.workdir = v();
    else throw new Error(`unknown argument: ${k}`);
  }
  if (!a.data) throw new Error('usage: node push.js --data FILE.jsonl [--batches 100,500] [--latency-ms MS --kbps K]');
  return a;
}

const log = (...m) => console.error('[peer]', ...m);
const round = (x, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

function startServer(dir) {
  const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), '--dir', dir, '--store', 'leveldb'],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.once('exit', (code) => reject(new Error(`server exited early (code ${code})`)));
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const { port } = JSON.parse(buf.slice(0, nl));
      child.removeAllListeners('exit');
      resolve({
        child,
        port,
        cpu: () => new Promise((res) => { child.once('message', (m) => res(m.cpu)); child.send({ cmd: 'cpu' }); }),
        stop: () => new Promise((res) => {
          if (child.exitCode !== null) return res();
          child.once('exit', () => res());
          child.kill('SIGTERM'); // our own child, by pid
        }),
      });
    });
  });
}

function makeHttp() {
  const agent = new http.Agent({ keepAlive: true });
  const sockets = [];
  const orig = agent.createConnection.bind(agent);
  agent.createConnection = (opts, cb) => { const s = orig(opts, cb); sockets.push(s); return s; };
  const counters = { requests: 0 };
  const fetch = (url, opts) => { counters.requests++; return PouchDB.fetch(url, { ...opts, agent }); };
  const snapshot = () => {
    let sent = 0, received = 0;
    for (const s of sockets) { sent += s.bytesWritten; received += s.bytesRead; }
    return { sent, received, requests: counters.requests, connections: sockets.length };
  };
  return { agent, fetch, snapshot };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const docs = fs.readFileSync(a.data, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const work = path.resolve(a.workdir, `${process.pid}-${Date.now()}`);
  fs.mkdirSync(work, { recursive: true });
  const server = await startServer(path.join(work, 'server'));
  let link = null;
  let port = server.port;
  if (a.latencyMs !== null) {
    link = await startSlowLink({ targetPort: server.port, latencyMs: a.latencyMs, kbps: a.kbps });
    port = link.port;
  }
  const wire = makeHttp();
  const steps = {};
  try {
    const local = new PouchDB(path.join(work, 'local'));
    for (let i = 0; i < docs.length; i += 1000) { // not timed
      const res = await local.bulkDocs(docs.slice(i, i + 1000));
      if (res.some((r) => !r.ok)) throw new Error('local load failed');
    }
    for (const batch of a.batches) {
      const remote = new PouchDB(`http://127.0.0.1:${port}/peer_b${batch}`, { fetch: wire.fetch });
      await remote.info(); // creates the database; not timed
      const s0 = wire.snapshot();
      const c0 = process.cpuUsage();
      const sc0 = await server.cpu();
      const t0 = performance.now();
      const res = await PouchDB.replicate(local, remote, { batch_size: batch });
      const secs = (performance.now() - t0) / 1000;
      const c1 = process.cpuUsage(c0);
      const sc1 = await server.cpu();
      const s1 = wire.snapshot();
      const count = (await remote.info()).doc_count;
      if (!res.ok || res.doc_write_failures || count !== docs.length) {
        throw new Error(`batch ${batch}: ${count} of ${docs.length} docs on the remote`);
      }
      steps[`b${batch}`] = {
        batch_size: batch,
        seconds: round(secs),
        docs_written: res.docs_written,
        remote_doc_count: count,
        bytes_sent: s1.sent - s0.sent,
        bytes_received: s1.received - s0.received,
        bytes_total: (s1.sent - s0.sent) + (s1.received - s0.received),
        http_requests: s1.requests - s0.requests,
        client_cpu_s: round((c1.user + c1.system) / 1e6, 3),
        server_cpu_s: round((sc1.user + sc1.system - sc0.user - sc0.system) / 1e6, 3),
      };
      log(`batch ${batch}: ${steps[`b${batch}`].seconds} s, ${steps[`b${batch}`].bytes_total} B, ` +
        `${steps[`b${batch}`].http_requests} requests`);
      await remote.close();
    }
    await local.close();
  } finally {
    wire.agent.destroy();
    if (link) await link.close();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ n_docs: docs.length, node: process.version,
    link: link ? { latency_ms_each_way: a.latencyMs, kbps_each_way: a.kbps } : null, steps }) + '\n');
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
