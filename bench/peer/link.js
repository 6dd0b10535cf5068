#!/usr/bin/env node
'use strict';
// The peer's slow link (slowlink.js) in front of any TCP port on 127.0.0.1, for
// `python -m bench peer` to put our own hub behind the very same link model.
//
//   node link.js --target PORT --latency-ms 300 --kbps 256
//
// Prints {"port": N} once listening; on a line "stats" on stdin prints
// {"c2s": bytes up, "s2c": bytes down, "connections": n}; exits when stdin closes.

const readline = require('readline');
const { startSlowLink } = require('./slowlink');

const a = { target: null, latencyMs: 300, kbps: 256 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i];
  if (k === '--target') a.target = Number(argv[++i]);
  else if (k === '--latency-ms') a.latencyMs = Number(argv[++i]);
  else if (k === '--kbps') a.kbps = Number(argv[++i]);
  else { console.error(`unknown argument: ${k}`); process.exit(2); }
}
if (!a.target) { console.error('usage: node link.js --target PORT [--latency-ms 300] [--kbps 256]'); process.exit(2); }

startSlowLink({ targetPort: a.target, latencyMs: a.latencyMs, kbps: a.kbps }).then((link) => {
  process.stdout.write(JSON.stringify({ port: link.port }) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(JSON.stringify(link.stats) + '\n');
  });
  rl.on('close', () => { link.close().then(() => process.exit(0)); });
});
