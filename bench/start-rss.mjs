// Start cost of a runtime, side by side: time from spawning `bootstrap` to its first GET /next, and the
// resident memory of the runtime's process (and its tree) once it answered one invocation. Two sides, A and
// B, started alternately (ABBA...), each against its own minimal Runtime API on 127.0.0.1; medians printed.
//
//   node bench/start-rss.mjs <treeA> <treeB> <taskRoot> <handler> [rounds=10] [envA-json] [envB-json]
//
// A tree is a built tandem checkout (it holds `bootstrap` and `dist/`). Used for the Node host's split bundle
// and invoke store (docs/node-handlers.md, "Lambda Managed Instances").
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [treeA, treeB, taskRoot, handler, rounds = '10', envA = '{}', envB = '{}'] = process.argv.slice(2);
if (!handler) {
  console.error('usage: node bench/start-rss.mjs <treeA> <treeB> <taskRoot> <handler> [rounds] [envA-json] [envB-json]');
  process.exit(2);
}
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

function rssKiB(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
  } catch {
    return 0;
  }
}

function tree(pid) {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...kids.flatMap(tree)];
}

async function once(root, extraEnv) {
  let nexts = 0;
  let firstNext = NaN;
  let answered;
  const done = new Promise((r) => (answered = r));
  const server = http.createServer((req, res) => {
    if (req.url.endsWith('/next')) {
      if (nexts++ === 0) {
        firstNext = performance.now() - t0;
        res.writeHead(200, {
          'Lambda-Runtime-Aws-Request-Id': 'bench-1',
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
          'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:bench',
          'Content-Type': 'application/json',
        });
        res.end('{}');
      }
      return; // later /next requests are parked
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(202);
      res.end('{}');
      setTimeout(answered, 300);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const env = { PATH: process.env.PATH, LAMBDA_TASK_ROOT: taskRoot, _HANDLER: handler, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${server.address().port}`, TANDEM_PYTHON: python, ...extraEnv };
  const t0 = performance.now();
  const p = spawn(`${root}/bootstrap`, [], { cwd: taskRoot, env, stdio: 'ignore' });
  await done;
  const node = rssKiB(p.pid);
  const total = tree(p.pid).reduce((sum, pid) => sum + rssKiB(pid), 0);
  p.kill('SIGKILL');
  server.closeAllConnections();
  server.close();
  return { firstNext, node, total };
}

const sides = { A: [treeA, JSON.parse(envA), []], B: [treeB, JSON.parse(envB), []] };
for (let i = 0; i < Number(rounds); i++) {
  for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) sides[k][2].push(await once(sides[k][0], sides[k][1]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [k, [root, env, runs]] of Object.entries(sides)) {
  console.log(
    `${k} ${root} ${JSON.stringify(env)}: first /next ${median(runs.map((r) => r.firstNext)).toFixed(1)} ms, ` +
      `node RSS ${(median(runs.map((r) => r.node)) / 1024).toFixed(2)} MiB, tree RSS ${(median(runs.map((r) => r.total)) / 1024).toFixed(2)} MiB`,
  );
}
