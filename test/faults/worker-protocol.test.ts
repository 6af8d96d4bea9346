// Fault class 4: a worker that breaks the frame protocol, through the real bootstrap. The worker is
// chosen with TANDEM_WORKER_SCRIPT, which bootstrap honours for the worker it starts before Node as Node
// does for the ones it starts: test/fixtures/bad-worker.py misbehaves as BAD_MODE says. A protocol error
// is never a silent end: one `tandem:` line each time, the invocation gets Runtime.WorkerProtocolError,
// the worker is replaced; a replacement that breaks by itself, between invocations, before serving one
// ends the runtime (no crash loop).
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO, event, json, posts, start, tandemLines, tempPath, until } from './harness.ts';

const BAD = `${REPO}/test/fixtures/bad-worker.py`;
const bad = (mode: string) => ({ env: { TANDEM_WORKER_SCRIPT: BAD, BAD_MODE: mode } });

describe('TANDEM_WORKER_SCRIPT', () => {
  it('bootstrap starts its worker with it too (one setting, one script), and Node its replacements', async () => {
    const script = tempPath('wrapped-worker.py');
    writeFileSync(
      script,
      `import os, runpy, sys\nos.environ["STARTED_BY"] = "wrapped"\nsys.argv[0] = ${JSON.stringify(`${REPO}/bridge-py/worker.py`)}\n` +
        'runpy.run_path(sys.argv[0], run_name="__main__")\n',
    );
    const handler = 'import os\ndef handler(e, c):\n    return os.environ.get("STARTED_BY")\n';
    const r = await start({ files: { 'app.py': handler }, handler: 'app.handler', env: { TANDEM_WORKER_SCRIPT: script, AWS_LAMBDA_MAX_CONCURRENCY: '2' } });
    const both = await Promise.all([r.server.enqueue(event({})).result, r.server.enqueue(event({})).result]);
    expect(both.map((x) => x.body.toString())).toEqual(['"wrapped"', '"wrapped"']);
  });
});

describe('a worker that breaks the protocol', () => {
  it('an extra frame while idle, after each answer: every answer is posted, one line each time, a new worker each time', async () => {
    const r = await start(bad('idle'));
    for (let i = 1; i <= 2; i++) {
      const res = await r.server.enqueue(event({})).result;
      expect(res.body.toString()).toBe('"answered"');
      await until(() => tandemLines(r).length === i);
    }
    for (const line of tandemLines(r)) {
      expect(line).toMatch(/^tandem: the Python worker .* broke the worker protocol: unexpected "result" frame while no job runs; starting a new worker$/);
    }
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    await r.noOrphans();
  });

  it('a frame before any invocation, from every worker: replaced, then the runtime ends (status 1), no crash loop', async () => {
    const r = await start(bad('early'));
    const pending = r.server.enqueue(event({}));
    expect(await r.exit).toEqual({ code: 1, signal: null });
    const lines = tandemLines(r);
    // The invocation may reach a replacement before its stray frame does (then that invocation gets the
    // error, and one more worker is tried): two or three workers, never more.
    expect(lines.length === 2 || lines.length === 3).toBe(true);
    expect(lines[0]).toMatch(/broke the worker protocol: unexpected "result" frame while no job runs; starting a new worker$/);
    expect(lines.at(-1)).toMatch(/broke the worker protocol: .*; it had replaced another worker and served nothing: no worker is left, ending the runtime$/);
    if (lines.length === 3) {
      const res = await pending.result;
      expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.WorkerProtocolError' });
    } else {
      expect(r.server.inFlightIds).toEqual([pending.requestId]);
    }
    await r.noOrphans();
  });

  for (const [mode, message] of [
    ['partial', /waits for its next message while the frame it sent last is incomplete/],
    ['wrongid', /"result" for someone-else while .* runs/],
    ['notmap', /./],
    ['oversize', /frame of 2147483647 bytes is over the limit/],
  ] as const) {
    it(`${mode}: Runtime.WorkerProtocolError for the invocation, one line, a new worker`, async () => {
      const r = await start(bad(mode));
      const res = await r.server.enqueue(event({})).result;
      expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.WorkerProtocolError' });
      expect((json(res.body) as { errorMessage: string }).errorMessage).toMatch(message);
      expect(posts(r)).toHaveLength(1);
      await until(() => tandemLines(r).length === 1);
      expect(tandemLines(r)[0]).toMatch(/; starting a new worker$/);
      r.child.kill('SIGTERM');
      expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
      await r.noOrphans();
    });
  }
});
