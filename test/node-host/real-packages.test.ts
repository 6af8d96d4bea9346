// Node handlers on the packages users run on Lambda (uuid, the AWS SDK v3, Powertools for AWS Lambda
// (TypeScript) logger / metrics / HTTP router / batch, middy), each through the real `bootstrap` behind the
// local `serve` (the Invoke API and function URLs on 127.0.0.1), in callback, async, streaming and Lambda
// Managed Instances modes. SDK calls go to a second local `serve` with dummy credentials: no network.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { request } from 'undici';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { runServe, type Serving } from '../../src/local/serve-command.ts';
import { ROOT } from './harness.ts';

const FIXTURES = join(ROOT, 'test/node-host/fixtures/packages');
const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Served {
  serving: Serving;
  logs(): string;
  close(): Promise<void>;
}

async function serve(handler: string, maxConcurrency = 1): Promise<Served> {
  const parts: Buffer[] = [];
  const serving = await runServe({
    config: {
      handler,
      taskRoot: FIXTURES,
      functionName: handler.replace(/\W/g, '-'),
      version: '$LATEST',
      timeoutSec: 20,
      memoryMb: 512,
      region: 'us-east-1',
      bootstrap: [join(ROOT, 'bootstrap')],
      runtimeDir: ROOT,
      env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
    },
    host: '127.0.0.1',
    port: 0,
    concurrency: 1,
    maxConcurrency,
    watch: false,
    log: (c) => void parts.push(Buffer.from(c)),
  });
  return { serving, logs: () => Buffer.concat(parts).toString('utf8'), close: () => serving.close() };
}

/** Invokes through the AWS SDK, as a user's client would; the decoded payload and the function error, if any. */
async function invoke(s: Served, payload: unknown): Promise<{ body: any; functionError: string | undefined; requestId: string | undefined }> {
  const client = new LambdaClient({ endpoint: s.serving.url, region: 'us-east-1', credentials: CREDENTIALS });
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: 'function', Payload: JSON.stringify(payload) }));
    return { body: JSON.parse(Buffer.from(out.Payload!).toString('utf8')), functionError: out.FunctionError, requestId: out.$metadata.requestId };
  } finally {
    client.destroy();
  }
}

/**
 * Waits until `pick` finds what it looks for in the function's log output (which reaches serve on the
 * runtime's own pipe, so it may come just after the answer). No time limit: the test's timeout is the hang
 * detector.
 */
async function logged<T>(s: Served, pick: (lines: Array<Record<string, any>>, text: string) => T | undefined): Promise<T> {
  for (;;) {
    const found = pick(jsonLines(s.logs()), s.logs());
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The JSON lines of the function's log output (START/END/REPORT and TEXT lines skipped). */
function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

let echo: Served;
beforeAll(async () => {
  echo = await serve('echo.handler');
});
afterAll(async () => {
  await echo?.close();
});

describe('callback handlers on uuid, Powertools logger and the AWS SDK', () => {
  let fn: Served;
  beforeAll(async () => {
    fn = await serve('callback.handler');
  });
  afterAll(async () => {
    await fn?.close();
  });

  test('uuid v4 (at init and per invocation) does not keep the callback waiting', async () => {
    const a = await invoke(fn, {});
    const b = await invoke(fn, {});
    expect(a.functionError).toBeUndefined();
    expect(a.body.id).toMatch(REQUEST_ID);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.fromInit).toBe(a.body.fromInit);
    const lines = await logged(fn, (all) => {
      const found = all.filter((l) => l.message === 'handling');
      return found.length >= 2 ? found : undefined;
    });
    expect(lines.map((l) => l.id)).toEqual([a.body.id, b.body.id]);
    expect(lines[0]).toMatchObject({ level: 'INFO', service: 'callback-fn', function_name: 'callback-handler' });
  });

  test('an AWS SDK call to the local serve completes, then the callback posts', async () => {
    const r = await invoke(fn, { target: echo.serving.url });
    expect(r.functionError).toBeUndefined();
    expect(r.body.status).toBe(200);
    expect(r.body.downstream.event).toEqual({ from: r.body.id });
    expect(r.body.downstream.requestId).toMatch(REQUEST_ID);
  });
});

describe('async handlers: middy with Powertools logger and metrics, the SDK, batch processing', () => {
  let orders: Served;
  let batch: Served;
  beforeAll(async () => {
    [orders, batch] = await Promise.all([serve('orders.handler'), serve('batch.handler')]);
  });
  afterAll(async () => {
    await Promise.all([orders?.close(), batch?.close()]);
  });

  test('middy runs the logger and metrics middlewares around the handler', async () => {
    const r = await invoke(orders, { count: 3, target: echo.serving.url });
    expect(r.functionError).toBeUndefined();
    expect(r.body.requestId).toMatch(REQUEST_ID);
    expect(r.body.downstream.event).toEqual({ order: r.body.order });
    const lines = await logged(orders, (all) => (all.some((l) => l._aws) ? all : undefined));
    expect(lines.find((l) => l.message === 'order placed')).toMatchObject({
      level: 'INFO',
      service: 'orders',
      order: r.body.order,
      items: 3,
      function_request_id: r.body.requestId,
      cold_start: true,
    });
    const emf = lines.find((l) => l._aws);
    expect(emf).toMatchObject({ ordersPlaced: 3, service: 'orders' });
    expect(emf!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'tandem-tests', Metrics: [{ Name: 'ordersPlaced', Unit: 'Count' }] });
  });

  test('an SQS batch: the failed record is reported as a batch item failure', async () => {
    const record = (id: string, body: unknown) => ({
      messageId: id,
      receiptHandle: `rh-${id}`,
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
      awsRegion: 'us-east-1',
    });
    const r = await invoke(batch, { Records: [record('m1', {}), record('m2', { fail: true }), record('m3', {})] });
    expect(r.functionError).toBeUndefined();
    expect(r.body).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    const processed = await logged(batch, (all) => {
      const found = all.filter((l) => l.message === 'processed');
      return found.length >= 2 ? found : undefined;
    });
    expect(processed.map((l) => l.id)).toEqual(['m1', 'm3']);
  });
});

describe("Powertools' HTTP router behind a function URL", () => {
  let buffered: Served;
  let streaming: Served;
  beforeAll(async () => {
    [buffered, streaming] = await Promise.all([serve('router.handler'), serve('router.stream')]);
  });
  afterAll(async () => {
    await Promise.all([buffered?.close(), streaming?.close()]);
  });

  test('buffered: a route with a path parameter, and a 404', async () => {
    const res = await request(`${buffered.serving.url}/hello/tandem`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ hello: 'tandem' });
    const missing = await request(`${buffered.serving.url}/nowhere`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });

  test('streaming (streamify): status and headers from the prelude, the body piece by piece', async () => {
    const res = await request(`${streaming.serving.url}/count/5`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(await res.body.text()).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
    const hello = await request(`${streaming.serving.url}/hello/stream`);
    expect(hello.statusCode).toBe(200);
    expect(await hello.body.json()).toEqual({ hello: 'stream' });
  });
});

describe('errors keep the shape of AWS\'s client', () => {
  let fn: Served;
  let tick: Served;
  beforeAll(async () => {
    [fn, tick] = await Promise.all([serve('fails.handler'), serve('fails.tick')]);
  });
  afterAll(async () => {
    await Promise.all([fn?.close(), tick?.close()]);
  });

  test('an error after an await (a logger line before it) has only the handler frame, labelled Runtime.handler', async () => {
    for (const s of [fn, tick]) {
      const r = await invoke(s, {});
      expect(r.functionError).toBe('Unhandled');
      const [message, label] = s === fn ? ['boom', 'Runtime\\.handler'] : ['x', 'Runtime\\.tick \\[as handler\\]'];
      expect(r.body.errorType).toBe('Error');
      expect(r.body.trace).toHaveLength(2);
      expect(r.body.trace[0]).toBe(`Error: ${message}`);
      expect(r.body.trace[1]).toMatch(new RegExp(`^    at ${label} \\(file://${FIXTURES}/fails\\.mjs:\\d+:\\d+\\)$`));
      const line = await logged(s, (_all, text) => text.split('\n').find((l) => l.includes('\tERROR\tInvoke Error \t')));
      expect(JSON.parse(line.slice(line.indexOf('\t{') + 1)).stack).toEqual(r.body.trace);
    }
  });
});

describe('Lambda Managed Instances mode (serve --max-concurrency)', () => {
  let fn: Served;
  beforeAll(async () => {
    fn = await serve('concurrent.handler', 4);
  });
  afterAll(async () => {
    await fn?.close();
  });

  test('concurrent invocations each see their own request id, trace id, logger keys and metrics', async () => {
    const delays = [120, 40, 80, 10];
    const results = await Promise.all(delays.map((delay, n) => invoke(fn, { n, delay, together: 4, target: echo.serving.url })));
    const traces = new Set<string>();
    for (const [n, r] of results.entries()) {
      expect(r.functionError, JSON.stringify(r.body)).toBeUndefined();
      const b = r.body;
      expect(b.n).toBe(n);
      expect(b.storeRequestId).toBe(b.requestId);
      expect(b.storeTraceId).toMatch(/^Root=1-/);
      expect(b.contextTraceId).toBe(b.storeTraceId);
      // The SDK passes the caller's own trace on (from the store: there is no _X_AMZN_TRACE_ID in this mode).
      expect(b.downstreamTrace).toBe(b.storeTraceId);
      expect(b.envTraceId).toBeNull();
      traces.add(b.storeTraceId);
    }
    expect(traces.size).toBe(4);
    const byId = new Map(results.map((r) => [r.body.requestId as string, r.body.n as number]));
    const lines = await logged(fn, (all) => (all.filter((l) => l._aws).length >= 4 ? all : undefined));
    const powertools = lines.filter((l) => l.message === 'after the wait');
    expect(powertools).toHaveLength(4);
    for (const l of powertools) expect(l.n).toBe(byId.get(l.function_request_id));
    // console.* records: JSON in this mode, with each invocation's own request id.
    const console = lines.filter((l) => typeof l.message === 'string' && l.message.startsWith('console line'));
    expect(console).toHaveLength(4);
    for (const l of console) expect(l).toMatchObject({ level: 'INFO', message: `console line ${byId.get(l.requestId)}` });
    const emf = lines.filter((l) => l._aws);
    expect(emf.map((l) => l.n).sort()).toEqual([0, 1, 2, 3]);
  });

  test('callback and plain sync handlers answer at once (no event loop to wait for in this mode)', async () => {
    const styles = await serve('concurrent.callback', 2);
    const sync = await serve('concurrent.sync', 2);
    try {
      const [a, b] = await Promise.all([invoke(styles, {}), invoke(sync, {})]);
      expect(a.body).toMatchObject({ style: 'callback' });
      expect(a.body.requestId).toMatch(REQUEST_ID);
      expect(b.body).toMatchObject({ style: 'sync' });
    } finally {
      await Promise.all([styles.close(), sync.close()]);
    }
  });

  test("Powertools' router streaming two responses at once", async () => {
    const streaming = await serve('router.stream', 2);
    try {
      const [a, b] = await Promise.all([request(`${streaming.serving.url}/count/4`), request(`${streaming.serving.url}/count/6`)]);
      const [ta, tb] = await Promise.all([a.body.text(), b.body.text()]);
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      expect(ta).toBe('line 0\nline 1\nline 2\nline 3\n');
      expect(tb).toBe('line 0\nline 1\nline 2\nline 3\nline 4\nline 5\n');
    } finally {
      await streaming.close();
    }
  });

  test("an uncaught exception is the error of the invocation it came from; the runtime then ends", async () => {
    const fn = await serve('concurrent.uncaught', 2);
    try {
      const [quiet, loud] = await Promise.all([invoke(fn, { n: 0 }), invoke(fn, { n: 1, boom: true, delay: 50 })]);
      expect(loud.functionError).toBe('Unhandled');
      expect(loud.body).toMatchObject({ errorType: 'Error', errorMessage: 'boom 1' });
      // The other invocation was lost with the runtime, as Lambda reports it.
      expect(quiet.functionError).toBe('Unhandled');
      expect(quiet.body.errorType).toBe('Runtime.ExitError');
      const record = await logged(fn, (all) => all.find((l) => l.message?.errorMessage === 'boom 1'));
      expect(record).toMatchObject({ level: 'ERROR', requestId: loud.requestId, message: { errorType: 'Error' } });
      // A fresh runtime serves the next invocation.
      expect((await invoke(fn, { n: 2 })).body).toEqual({ n: 2 });
    } finally {
      await fn.close();
    }
  });

  test('concurrent SQS batches keep their own failures', async () => {
    const batch = await serve('batch-concurrent.handler', 3);
    try {
      const sqs = (n: number) => ({
        Records: [0, 1, 2].map((i) => ({
          messageId: `b${n}-m${i}`,
          body: JSON.stringify({ fail: i === n, delay: 5 * (3 - n) + i }),
          eventSource: 'aws:sqs',
          attributes: {},
          messageAttributes: {},
        })),
      });
      const results = await Promise.all([0, 1, 2].map((n) => invoke(batch, sqs(n))));
      expect(results.map((r) => r.body)).toEqual([0, 1, 2].map((n) => ({ batchItemFailures: [{ itemIdentifier: `b${n}-m${n}` }] })));
    } finally {
      await batch.close();
    }
  });
});
