// Stack traces as users see them through the real runtime: the handler's frame is labelled as under AWS's
// client (`Runtime.handler`, `Runtime.fn [as handler]`), never with a minified name, and an error thrown
// after an `await` has no runtime frame below the handler's, even when a process.nextTick was queued first
// (as Powertools' logger does). The error document, the `Invoke Error` log line and the X-Ray cause agree.
import { afterEach, describe, expect, test } from 'vitest';
import { startRuntime, type Run } from './harness.ts';

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

const ESM = `export const handler = async () => {
  process.nextTick(() => {});
  await null;
  throw new Error('x');
};
export const named = async function placeOrder() {
  await new Promise((r) => setImmediate(r));
  process.nextTick(() => {});
  await null;
  throw new TypeError('late');
};
export const sync = () => {
  throw new Error('at once');
};
`;
const CJS = `exports.handler = async () => {
  process.nextTick(() => {});
  await null;
  throw new Error('cjs');
};
`;

async function errorOf(handler: string) {
  run = await startRuntime({ files: { 'app.mjs': ESM, 'old.js': CJS }, handler });
  const result = await run.invoke({});
  if (result.kind !== 'error') throw new Error(`expected an error, got ${result.kind}`);
  const post = run.api.requests.find((q) => q.path.endsWith('/error'))!;
  const cause = JSON.parse(post.headers.find(([k]) => k.toLowerCase() === 'lambda-runtime-function-xray-error-cause')![1]);
  // The runtime's stdout reaches the test on its own pipe: all of it is there once the runtime is gone.
  const logLine = (await run.finalStdout()).split('\n').find((l) => l.includes('\tERROR\tInvoke Error \t'))!;
  return { doc: JSON.parse(result.body.toString()), cause, logged: JSON.parse(logLine.slice(logLine.indexOf('\t{') + 1)) };
}

describe('the handler frame and the frames below it', () => {
  test('ES module: nextTick then await then throw: one frame, Runtime.handler', async () => {
    const { doc, cause, logged } = await errorOf('app.handler');
    expect(doc.trace).toEqual(['Error: x', `    at Runtime.handler (file://${run!.taskRoot}/app.mjs:4:9)`]);
    expect(logged).toEqual({ errorType: 'Error', errorMessage: 'x', stack: doc.trace });
    // An ES module's location splits at its first ':' in AWS's client: path "file", no line.
    expect(cause.exceptions).toEqual([{ type: 'Error', message: 'x', stack: [{ path: 'file', line: null, label: 'Runtime.handler' }] }]);
    expect(cause.paths).toEqual(['file']);
  });

  test('a named function reads Runtime.<name> [as handler], after a real macrotask too', async () => {
    const { doc } = await errorOf('app.named');
    expect(doc.trace).toEqual(['TypeError: late', `    at Runtime.placeOrder [as handler] (file://${run!.taskRoot}/app.mjs:10:9)`]);
  });

  test('CommonJS: V8 labels `exports.handler` by its own name; the X-Ray cause carries the file and line', async () => {
    const { doc, cause } = await errorOf('old.handler');
    expect(doc.trace).toEqual(['Error: cjs', `    at exports.handler (${run!.taskRoot}/old.js:4:9)`]);
    expect(cause.exceptions[0].stack).toEqual([{ path: `${run!.taskRoot}/old.js`, line: 4, label: 'exports.handler' }]);
    expect(cause.working_directory).toBe(run!.taskRoot);
  });

  test('a synchronous throw shows the runtime below the handler, with readable names', async () => {
    const { doc } = await errorOf('app.sync');
    expect(doc.trace[1]).toBe(`    at Runtime.sync [as handler] (file://${run!.taskRoot}/app.mjs:13:9)`);
    const below = doc.trace.slice(2).join('\n');
    expect(below).toMatch(/node-host\.cjs/);
    // Frames of the runtime name its own functions, not minified ones (two letters and a dot).
    expect(below).not.toMatch(/at [A-Za-z]{1,2}\.|at [A-Za-z]{1,2} \(/);
  });
});
