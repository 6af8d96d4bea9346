// What `npm run build` makes of the Node host: its own file, dist/node-host.cjs, that the runtime requires
// only for a Node handler (dist/runtime.cjs, which a Python function runs, holds none of it), with every
// name kept (V8 prints function and class names in users' stack traces).
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.ts';

const runtime = () => readFileSync(join(ROOT, 'dist/runtime.cjs'), 'utf8');
const nodeHost = () => readFileSync(join(ROOT, 'dist/node-host.cjs'), 'utf8');

describe('dist/node-host.cjs', () => {
  test('exists beside dist/runtime.cjs, which requires it lazily and holds none of its code', () => {
    expect(existsSync(join(ROOT, 'dist/node-host.cjs'))).toBe(true);
    expect(runtime()).toContain('require("./node-host.cjs")');
    for (const text of ['Streaming does not support non-async handlers.', 'Invoke Error', '_AWS_LAMBDA_REQUEST_ID']) {
      expect(runtime()).not.toContain(text);
      expect(nodeHost()).toContain(text);
    }
  });

  test('keeps the names of the classes and functions that appear in users\' stack traces', () => {
    const text = nodeHost();
    for (const name of ['Runtime', 'ResponseStream', 'ResponseSink', 'EmptyLoop', 'NodeJsExit', 'UnhandledPromiseRejection']) {
      expect(text).toMatch(new RegExp(`\\b(class|var) ${name}\\b`));
    }
    for (const name of ['callHandler', 'runHandler', 'invokeBuffered', 'invokeStreaming', 'loadHandler', 'patchConsole']) {
      expect(text).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });
});
