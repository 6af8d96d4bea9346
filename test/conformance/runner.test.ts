// Tests of the conformance runner itself, with a fixture runtime (fixtures/echo-runtime.mjs) in place of the
// real bootstrap: the exact /next headers and ids, the environment, the fresh task root, the end-of-run rules
// and that nothing the runtime started outlives a run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FUNCTION_ARN, TRACE_ID, checkCase, killAllRuns, loadCases, requestId, runCase, type ConformanceCase } from './runner.ts';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/echo-runtime.mjs');
const set = mkdtempSync(join(tmpdir(), 'tandem-conformance-set-'));
mkdirSync(join(set, 'cases'));
mkdirSync(join(set, 'handlers/h/__pycache__'), { recursive: true });
writeFileSync(join(set, 'handlers/h/lambda_function.py'), 'def lambda_handler(e, c):\n    return 1\n');
writeFileSync(join(set, 'handlers/h/__pycache__/stale.pyc'), 'stale');

afterAll(() => {
  killAllRuns();
  rmSync(set, { recursive: true, force: true });
});

function makeCase(handler: string, extra: Partial<ConformanceCase> = {}): ConformanceCase {
  const c = {
    name: `fixture_${handler.split('.')[0]}`,
    handler_dir: 'handlers/h',
    handler,
    env: {},
    invocations: [{ body: '{}' }],
    expected: { requests: [], posts: [], stdout: [''], exit: { by_itself: false } },
    ...extra,
  } as Omit<ConformanceCase, 'file' | 'root'>;
  const file = join(set, 'cases', `${c.name}.json`);
  writeFileSync(file, JSON.stringify(c));
  return { ...c, file, root: set };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function waitDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

const python = '/usr/bin/env';

describe.concurrent('conformance runner (fixture runtime)', () => {
  test('serves the README headers and ids, the environment and a fresh task root; stops after the parked /next', async () => {
    const c = makeCase('echo.handler', {
      env: { CASE_VAR: 'v', AWS_REGION: null },
      invocations: [
        { body: '{"a": 1}' },
        { body_base64: '//5iaW4A', content_type: null, deadline_ms: 9000, headers: { 'Lambda-Runtime-Trace-Id': '', 'Lambda-Runtime-Client-Context': '{}' } },
      ],
    });
    const before = Date.now();
    const run = await runCase(c, { python, bootstrap: FIXTURE });
    const id1 = requestId(1);
    const id2 = requestId(2);
    expect(id2).toBe('00000000-0000-4000-8000-000000000002');
    expect(run.endedBy).toBe('parked');
    expect(run.actual.requests).toEqual([
      'GET /2018-06-01/runtime/invocation/next',
      `POST /2018-06-01/runtime/invocation/${id1}/response`,
      'GET /2018-06-01/runtime/invocation/next',
      `POST /2018-06-01/runtime/invocation/${id2}/response`,
      'GET /2018-06-01/runtime/invocation/next',
    ]);
    expect(run.actual.stdout).toEqual([`served ${id1} in /var/task`, `served ${id2} in /var/task`, '']);
    expect(run.actual.exit).toEqual({ by_itself: false });

    const [a, b] = run.actual.posts.map((p) => JSON.parse(p.body!) as { headers: Array<[string, string]>; body: string; cwd: string; files: string[]; env: Record<string, string | null> });
    const names = (h: Array<[string, string]>) => h.map(([k]) => k);
    expect(names(a!.headers)).toEqual([
      'Content-Type',
      'Lambda-Runtime-Aws-Request-Id',
      'Lambda-Runtime-Deadline-Ms',
      'Lambda-Runtime-Invoked-Function-Arn',
      'Lambda-Runtime-Trace-Id',
      'Content-Length',
    ]);
    const header = (h: Array<[string, string]>, n: string) => h.find(([k]) => k === n)?.[1];
    expect(header(a!.headers, 'Content-Type')).toBe('application/json');
    expect(header(a!.headers, 'Lambda-Runtime-Aws-Request-Id')).toBe(id1);
    expect(header(a!.headers, 'Lambda-Runtime-Invoked-Function-Arn')).toBe(FUNCTION_ARN);
    expect(header(a!.headers, 'Lambda-Runtime-Trace-Id')).toBe(TRACE_ID);
    const deadline1 = Number(header(a!.headers, 'Lambda-Runtime-Deadline-Ms'));
    expect(deadline1).toBeGreaterThanOrEqual(before + 30_000);
    expect(Buffer.from(a!.body, 'base64').toString()).toBe('{"a": 1}');
    // content_type null: no Content-Type; "" removes the trace header; extra headers appended
    expect(names(b!.headers)).toEqual([
      'Lambda-Runtime-Aws-Request-Id',
      'Lambda-Runtime-Deadline-Ms',
      'Lambda-Runtime-Invoked-Function-Arn',
      'Lambda-Runtime-Client-Context',
      'Content-Length',
    ]);
    const deadline2 = Number(header(b!.headers, 'Lambda-Runtime-Deadline-Ms'));
    expect(deadline2).toBeLessThan(deadline1);
    expect(b!.body).toBe('//5iaW4A');

    expect(a!.cwd).toBe('/var/task');
    expect(a!.files).toEqual(['lambda_function.py']);
    expect(a!.env).toEqual({
      LAMBDA_TASK_ROOT: '/var/task',
      _HANDLER: 'echo.handler',
      AWS_LAMBDA_FUNCTION_NAME: 'conformance-fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      TANDEM_PYTHON: python,
      CASE_VAR: 'v',
      AWS_REGION: null,
    });
    const child = Number(/child (\d+)/.exec(run.stderr)?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(await waitDead(child)).toBe(true);
    expect(run.leftovers).toEqual([]);
  });

  test('a runtime that ignores SIGTERM is killed; its group goes with it', async () => {
    const run = await runCase(makeCase('stubborn.handler'), { python, bootstrap: FIXTURE });
    expect(run.actual.exit).toEqual({ by_itself: false });
    expect(run.actual.requests).toHaveLength(3);
    const child = Number(/child (\d+)/.exec(run.stderr)?.[1]);
    expect(await waitDead(child)).toBe(true);
  });

  test('a process the runtime started outside its group is found and killed', async () => {
    const run = await runCase(makeCase('escape.handler'), { python, bootstrap: FIXTURE });
    const child = Number(/child (\d+)/.exec(run.stderr)?.[1]);
    expect(run.leftovers).toEqual([child]);
    expect(await waitDead(child)).toBe(true);
  });

  test('an init error and an exit by itself are recorded with their exit codes', async () => {
    const init = await runCase(makeCase('initerror.handler'), { python, bootstrap: FIXTURE });
    expect(init.endedBy).toBe('exited');
    expect(init.actual).toEqual({
      requests: ['POST /2018-06-01/runtime/init/error'],
      posts: [
        {
          path: '/2018-06-01/runtime/init/error',
          headers: { 'content-type': null, 'lambda-runtime-function-error-type': 'Runtime.Fixture', 'lambda-runtime-function-xray-error-cause': null },
          body: '{"errorType": "Runtime.Fixture"}',
        },
      ],
      stdout: [''],
      exit: { by_itself: true, code: 1 },
    });
    const exit = await runCase(makeCase('exit.handler', { invocations: [{ body: '{}' }, { body: '{}' }] }), { python, bootstrap: FIXTURE });
    expect(exit.actual).toEqual({ requests: ['GET /2018-06-01/runtime/invocation/next'], posts: [], stdout: ['bye', ''], exit: { by_itself: true, code: 3 } });
  });

  test('checkCase reports the case name and the first difference; a missing bootstrap is a clear failure', async () => {
    const c = makeCase('exit.handler', {
      name: 'fixture_diff',
      expected: { requests: ['GET /2018-06-01/runtime/invocation/next'], posts: [], stdout: ['bye!', ''], exit: { by_itself: true, code: 3 } },
    });
    const r = await checkCase(c, { python, bootstrap: FIXTURE });
    expect(r.pass).toBe(false);
    expect(r.difference).toEqual({ path: '$.stdout[0]', expected: 'bye!', actual: 'bye', offset: 3 });
    expect(r.report).toContain('fixture_diff');
    expect(r.report).toContain('$.stdout[0]');
    const missing = await checkCase(c, { python, bootstrap: join(set, 'no-such-bootstrap') });
    expect(missing.pass).toBe(false);
    expect(missing.report).toMatch(/bootstrap is missing/);
  });

  test('loadCases reads a case set sorted by name and refuses a malformed case', () => {
    makeCase('echo.handler');
    const names = loadCases(set).map((c) => c.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('fixture_echo');
    const bad = mkdtempSync(join(tmpdir(), 'tandem-conformance-bad-'));
    try {
      mkdirSync(join(bad, 'cases'));
      writeFileSync(join(bad, 'cases', 'x.json'), JSON.stringify({ name: 'y', handler_dir: 'h', handler: 'a.b', invocations: [], expected: { requests: [] } }));
      expect(() => loadCases(bad)).toThrow(/does not match the file name/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
