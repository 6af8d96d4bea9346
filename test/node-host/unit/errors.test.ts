// The error forms of the Node host, as AWS's Node client makes them: the error document, the `Invoke Error`
// log form and the X-Ray cause (pure functions, no runtime).
import { describe, expect, test } from 'vitest';
import { HandlerNotFound, ImportModuleError, NodeJsExit, UnhandledPromiseRejection, intoError, toFormatted, toRapidResponse, xrayCause } from '../../../src/node/errors.ts';

describe('toRapidResponse', () => {
  test('an Error: name, message, stack lines', () => {
    const e = new TypeError('bad');
    e.stack = 'TypeError: bad\n    at f (/var/task/a.js:1:2)';
    expect(toRapidResponse(e)).toEqual({ errorType: 'TypeError', errorMessage: 'bad', trace: ['TypeError: bad', '    at f (/var/task/a.js:1:2)'] });
  });

  test('DEL is escaped as %7F in all three', () => {
    const e = new Error('a\x7Fb');
    e.name = 'N\x7F';
    e.stack = 'N\x7F: a\x7Fb';
    expect(toRapidResponse(e)).toEqual({ errorType: 'N%7F', errorMessage: 'a%7Fb', trace: ['N%7F: a%7Fb'] });
  });

  test('an error-shaped object counts; a non-error is its type and toString()', () => {
    expect(toRapidResponse({ name: 'X', message: 'm', stack: 's' })).toEqual({ errorType: 'X', errorMessage: 'm', trace: ['s'] });
    expect(toRapidResponse('fail')).toEqual({ errorType: 'string', errorMessage: 'fail', trace: [] });
    expect(toRapidResponse(42)).toEqual({ errorType: 'number', errorMessage: '42', trace: [] });
    expect(toRapidResponse({ a: 1 })).toEqual({ errorType: 'object', errorMessage: '[object Object]', trace: [] });
  });

  test('what cannot be read gives the "handled" document', () => {
    const handled = {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
    expect(toRapidResponse(null)).toEqual(handled);
    const e = new Error('x');
    Object.defineProperty(e, 'name', { get: () => 7 });
    expect(toRapidResponse(e)).toEqual(handled);
  });

  test("the Runtime.* classes: the class keeps its short name, errors say Runtime.<name>", () => {
    expect(new ImportModuleError('m').name).toBe('Runtime.ImportModuleError');
    expect(ImportModuleError.name).toBe('ImportModuleError');
    expect(toRapidResponse(new HandlerNotFound('h')).errorType).toBe('Runtime.HandlerNotFound');
    expect(new NodeJsExit().message).toMatch(/^The Lambda runtime client detected an unexpected Node.js exit code/);
    const r = new UnhandledPromiseRejection(new Error('why'), 'p');
    expect([r.name, r.message, r.promise]).toEqual(['Runtime.UnhandledPromiseRejection', 'Error: why', 'p']);
  });
});

describe('toFormatted (the TEXT log form)', () => {
  test('a tab, then errorType, errorMessage, code, the enumerable properties, the stack lines', () => {
    const e = Object.assign(new Error('gone'), { code: 'ENOENT', path: '/x' });
    e.stack = 'Error: gone\n    at x';
    expect(toFormatted(e)).toBe('\t{"errorType":"Error","errorMessage":"gone","code":"ENOENT","path":"/x","stack":["Error: gone","    at x"]}');
  });

  test('a circular error falls back to the error document', () => {
    const e = new Error('loop') as Error & { self?: unknown };
    e.self = e;
    e.stack = 'Error: loop';
    expect(toFormatted(e)).toBe('\t{"errorType":"Error","errorMessage":"loop","trace":["Error: loop"]}');
  });

  test('intoError wraps a non-Error value', () => {
    expect(intoError('s').message).toBe('s');
    const e = new Error('e');
    expect(intoError(e)).toBe(e);
  });
});

describe('xrayCause', () => {
  const parse = (err: unknown) => JSON.parse(xrayCause(err));

  test('CommonJS frames: path, line and label; the paths once each', () => {
    const e = new Error('boom');
    e.stack = ['Error: boom', '    at Runtime.handler (/var/task/index.js:3:9)', '    at helper (/var/task/index.js:9:1)', '    at /var/task/lib.js:1:1'].join('\n');
    expect(parse(e)).toEqual({
      working_directory: process.cwd(),
      exceptions: [
        {
          type: 'Error',
          message: 'boom',
          stack: [
            { path: '/var/task/index.js', line: 3, label: 'Runtime.handler' },
            { path: '/var/task/index.js', line: 9, label: 'helper' },
            { path: '/var/task/lib.js', line: 1, label: 'anonymous' },
          ],
        },
      ],
      paths: ['/var/task/index.js', '/var/task/lib.js'],
    });
  });

  test('ES module frames split at the first colon, as AWS does: path "file", no line', () => {
    const e = new Error('esm');
    e.stack = 'Error: esm\n    at Runtime.handler (file:///var/task/index.mjs:4:9)\n    at async Promise.all (index 0)';
    expect(parse(e).exceptions[0].stack).toEqual([
      { path: 'file', line: null, label: 'Runtime.handler' },
      { path: '0', line: null, label: 'async Promise.all index' },
    ]);
  });

  test('no stack: no frames; a value without name or message; what cannot be read is ""', () => {
    expect(parse('just a string')).toEqual({ working_directory: process.cwd(), exceptions: [{ stack: [] }], paths: [] });
    expect(xrayCause(null)).toBe('');
    expect(xrayCause({ stack: 5 })).toBe('');
  });
});
