// The supervisor against the fixture runtime (a tiny Runtime API client in test/fixtures): cold and warm
// starts, the REPORT line, timeouts, runtime exits, init errors, oversized responses, concurrency, orphans.
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/local/supervisor.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogCollector, fixtureConfig, isAlive, tempDir, waitFor } from './helpers.ts';

const open: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function make(over: Parameters<typeof fixtureConfig>[0] = {}, concurrency = 1) {
  const logs = new LogCollector();
  const sup = new Supervisor({ config: fixtureConfig(over), log: logs.sink, concurrency });
  open.push(sup);
  return { sup, logs };
}

const ev = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

describe('supervisor', () => {
  it('gives the runtime Lambda environment and keeps it warm', async () => {
    const { sup, logs } = make({ env: { FIXTURE_FROM_ENV_FILE: 'yes' } });
    const first = await sup.invoke({ body: ev({ hello: 'world' }) });
    expect(first.outcome).toBe('success');
    expect(first.result.kind).toBe('response');
    const doc = json(first.result.body);
    expect(doc.event).toEqual({ hello: 'world' });
    expect(doc.requestId).toBe(first.requestId);
    expect(doc.env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'fixture-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fixture-fn',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      TZ: ':UTC',
      _HANDLER: 'fixture.handler',
      FIXTURE_FROM_ENV_FILE: 'yes',
    });
    expect(doc.env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(doc.env.LAMBDA_TASK_ROOT).toMatch(/^\//);
    expect(doc.headers['lambda-runtime-invoked-function-arn']).toBe('arn:aws:lambda:us-east-1:123456789012:function:fixture-fn');
    expect(first.initDurationMs).toBeGreaterThan(0);

    const second = await sup.invoke({ body: ev({ mode: 'pid' }) });
    const third = await sup.invoke({ body: ev({ mode: 'pid' }) });
    expect(second.initDurationMs).toBeUndefined();
    expect(json(second.result.body).pid).toBe(json(third.result.body).pid);
    expect(logs.text).toContain(`START RequestId: ${first.requestId} Version: $LATEST\n`);
    expect(logs.text).toContain(`END RequestId: ${first.requestId}\n`);
  });

  it('prints a REPORT line with every field, Init Duration only on a cold start', async () => {
    const { sup, logs } = make({ memoryMb: 256 });
    const cold = await sup.invoke({ body: ev({}) });
    const warm = await sup.invoke({ body: ev({}) });
    const report = (id: string) => logs.text.split('\n').find((l) => l.startsWith(`REPORT RequestId: ${id}`))!;
    const re =
      /^REPORT RequestId: \S+\tDuration: (\d+\.\d{2}) ms\tBilled Duration: (\d+) ms\tMemory Size: 256 MB\tMax Memory Used: (\d+) MB\t(Init Duration: (\d+\.\d{2}) ms\t)?$/;
    const c = re.exec(report(cold.requestId))!;
    const w = re.exec(report(warm.requestId))!;
    expect(c).not.toBeNull();
    expect(w).not.toBeNull();
    expect(c[5]).toBeDefined();
    expect(w[4]).toBeUndefined();
    expect(Number(c[3])).toBeGreaterThan(10); // a Node process is tens of MB
    // custom runtimes are billed for init: billed >= duration + init
    expect(Number(c[2])).toBeGreaterThanOrEqual(Math.floor(Number(c[1]) + Number(c[5])));
    expect(cold.log.toString()).toContain(`REPORT RequestId: ${cold.requestId}`);
  });

  it('forwards the function output to the log between START and END', async () => {
    const { sup } = make();
    const r = await sup.invoke({ body: ev({ mode: 'log', lines: ['one', 'two'] }) });
    const log = r.log.toString();
    expect(log.indexOf('START')).toBeLessThan(log.indexOf('one\ntwo\n'));
    expect(log.indexOf('stderr line')).toBeLessThan(log.indexOf('END RequestId'));
  });

  it('times out like Lambda, kills the process group and inits a fresh runtime next time', async () => {
    const { sup, logs } = make({ timeoutSec: 1 });
    const child = await sup.invoke({ body: ev({ mode: 'child' }) });
    const childPid = json(child.result.body).childPid as number;
    const before = sup.runtimePids[0]!;
    expect(isAlive(childPid)).toBe(true);
    const r = await sup.invoke({ body: ev({ mode: 'sleep', ms: 5000 }) });
    expect(r.outcome).toBe('timeout');
    expect(r.result.kind).toBe('error');
    expect(r.result.kind === 'error' && r.result.errorType).toBe('Sandbox.Timedout');
    expect(json(r.result.body)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${r.requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(logs.text).toMatch(new RegExp(`\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${r.requestId} Task timed out after 1.00 seconds\n`));
    expect(logs.text).toMatch(new RegExp(`REPORT RequestId: ${r.requestId}\\tDuration: \\d+\\.\\d\\d ms.*\\tStatus: timeout\\t\n`));
    await waitFor(() => !isAlive(before) && !isAlive(childPid), 'the timed-out process group to die');
    const next = await sup.invoke({ body: ev({ mode: 'pid' }) });
    expect(next.initDurationMs).toBeDefined();
    expect(json(next.result.body).pid).not.toBe(before);
  });

  it('answers Runtime.ExitError when the runtime exits mid-invocation, then starts a new one', async () => {
    const { sup, logs } = make();
    const r = await sup.invoke({ body: ev({ mode: 'exit', code: 3 }) });
    expect(json(r.result.body)).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${r.requestId} Error: Runtime exited with error: exit status 3`,
    });
    expect(logs.text).toContain(`Status: error\tError Type: Runtime.ExitError\t\n`);
    const k = await sup.invoke({ body: ev({ mode: 'exit', signal: 'SIGKILL' }) });
    expect(json(k.result.body).errorMessage).toBe(`RequestId: ${k.requestId} Error: Runtime exited with error: signal: killed`);
    const ok = await sup.invoke({ body: ev({}) });
    expect(ok.outcome).toBe('success');
    expect(ok.initDurationMs).toBeDefined();
  });

  it('serves the init error as the invocation result, every time, and never reuses that runtime', async () => {
    const { sup, logs } = make({ handler: 'initerror.handler' });
    for (let i = 0; i < 2; i++) {
      const r = await sup.invoke({ body: ev({}) });
      expect(r.outcome).toBe('error');
      expect(r.result.kind === 'error' && r.result.errorType).toBe('Runtime.FixtureInitError');
      expect(r.result.kind === 'error' && r.result.source).toBe('init');
      expect(json(r.result.body)).toEqual({ errorMessage: 'fixture init failed', errorType: 'FixtureInitError' });
      expect(r.initDurationMs).toBeDefined();
    }
    expect(logs.text).toContain('Error Type: Runtime.FixtureInitError');
    expect(logs.text).toMatch(/^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: Runtime.FixtureInitError\n/m);
  });

  it('reports a runtime that exits during init as Runtime.ExitError', async () => {
    const { sup } = make({ handler: 'initexit.handler' });
    const r = await sup.invoke({ body: ev({}) });
    expect(json(r.result.body).errorMessage).toBe(`RequestId: ${r.requestId} Error: Runtime exited with error: exit status 3`);
  });

  it('ends an init that outlasts the init limit like a timeout, with INIT_REPORT Status: timeout', async () => {
    const logs = new LogCollector();
    const sup = new Supervisor({ config: fixtureConfig({ handler: 'inithang.handler' }), log: logs.sink, initTimeoutMs: 1000 });
    open.push(sup);
    const r = await sup.invoke({ body: ev({}) });
    expect(r.outcome).toBe('timeout');
    expect(json(r.result.body).errorMessage).toBe(`RequestId: ${r.requestId} Error: Task timed out after 1.00 seconds`);
    expect(logs.text).toMatch(/^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout\n/m);
    expect(sup.runtimePids).toEqual([]);
  });

  it('reports a bootstrap that cannot start', async () => {
    const { sup } = make({ bootstrap: ['/nonexistent/bootstrap'] });
    const r = await sup.invoke({ body: ev({}) });
    expect(r.result.kind === 'error' && r.result.errorType).toBe('Runtime.InvalidEntrypoint');
    expect(json(r.result.body).errorMessage).toContain('/nonexistent/bootstrap');
  });

  it('turns a response over 6 MB into Function.ResponseSizeTooLarge and stays warm', async () => {
    const { sup } = make();
    const r = await sup.invoke({ body: ev({ mode: 'big', bytes: 6 * 1024 * 1024 + 101 }) });
    expect(r.result.kind === 'error' && r.result.errorType).toBe('Function.ResponseSizeTooLarge');
    const ok = await sup.invoke({ body: ev({ mode: 'big', bytes: 6 * 1024 * 1024 + 100 }) });
    expect(ok.result.body.length).toBe(6 * 1024 * 1024 + 100);
    expect(ok.initDurationMs).toBeUndefined();
  });

  it('queues invocations beyond the concurrency and runs up to N at once', async () => {
    const { sup } = make({}, 2);
    const results = await Promise.all([1, 2, 3, 4].map(() => sup.invoke({ body: ev({ mode: 'pid' }) })));
    expect(results.every((r) => r.outcome === 'success')).toBe(true);
    const pids = new Set(results.map((r) => json(r.result.body).pid));
    expect(pids.size).toBeLessThanOrEqual(2);
    expect(sup.runtimePids.length).toBeLessThanOrEqual(2);
  });

  it('restart() makes the next invocation init a new runtime', async () => {
    const { sup } = make();
    const a = await sup.invoke({ body: ev({ mode: 'pid' }) });
    sup.restart();
    const b = await sup.invoke({ body: ev({ mode: 'pid' }) });
    expect(b.initDurationMs).toBeDefined();
    expect(json(b.result.body).pid).not.toBe(json(a.result.body).pid);
  });

  it('leaves no process behind after close()', async () => {
    const { sup } = make();
    const r = await sup.invoke({ body: ev({ mode: 'child' }) });
    const pid = sup.runtimePids[0]!;
    await sup.close();
    await waitFor(() => !isAlive(pid) && !isAlive(json(r.result.body).childPid), 'processes to end');
  });
});

describe('supervisor in Lambda Managed Instances mode (maxConcurrency)', () => {
  it('runs up to M invocations at once on one runtime with AWS_LAMBDA_MAX_CONCURRENCY', async () => {
    const dir = tempDir();
    const logs = new LogCollector();
    const sup = new Supervisor({ config: fixtureConfig(), log: logs.sink, maxConcurrency: 3 });
    open.push(sup);
    try {
      const env = json((await sup.invoke({ body: ev({}) })).result.body).env;
      expect(env.AWS_LAMBDA_MAX_CONCURRENCY).toBe('3');
      expect(env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('lambda-managed-instances');
      const release = join(dir.dir, 'go');
      let started = 0;
      const pending = [1, 2, 3].map(() => sup.invoke({ body: ev({ mode: 'wait', releaseFile: release }) }, { onStart: () => void started++ }));
      // All three are running at the same time before any is allowed to finish.
      await waitFor(() => started === 3, 'three invocations to run at once');
      writeFileSync(release, '');
      const results = await Promise.all(pending);
      expect(new Set(results.map((r) => json(r.result.body).pid)).size).toBe(1);
    } finally {
      dir.cleanup();
    }
  });

  it('fails only the invocation that timed out and keeps the runtime', async () => {
    const logs = new LogCollector();
    const sup = new Supervisor({ config: fixtureConfig({ timeoutSec: 1 }), log: logs.sink, maxConcurrency: 2 });
    open.push(sup);
    const before = json((await sup.invoke({ body: ev({ mode: 'pid' }) })).result.body).pid;
    const slow = await sup.invoke({ body: ev({ mode: 'sleep', ms: 3000 }) });
    expect(slow.outcome).toBe('timeout');
    const after = json((await sup.invoke({ body: ev({ mode: 'pid' }) })).result.body).pid;
    expect(after).toBe(before);
  });
});
