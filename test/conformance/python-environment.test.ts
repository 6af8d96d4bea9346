// The Python environment a handler gets, through the real bootstrap, on every installed Python 3.9-3.13 and on
// Debian's python3.11, held to what AWS's python3.11 launcher (/var/runtime/bootstrap.py) does
// (docs/python-worker.md, "sys.path and what handlers can import"):
//   - sys.path is [task root, /opt/python/lib/pythonX.Y/site-packages, /opt/python, <the interpreter's
//     site-packages>, <the runtime dir>, ...the interpreter's own entries], the /opt and site-packages entries
//     only when PYTHONPATH is absent; PYTHONPATH is then set to the runtime dir for child processes;
//   - the runtime dir (bridge-py/lib) holds only the public `tandem` package: nothing else of the runtime
//     (`worker`, `tests`, the worker's modules) imports, and sys.modules holds nothing of the runtime but
//     `tandem` when the handler module is imported (as AWS's holds `awslambdaric`);
//   - a task root with modules named like the runtime's own gets its own modules, and the runtime works
//     beside them (results, logging, error documents).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Normalised } from './normalise.ts';
import { debianPython, pyenvPythons } from './pythons.ts';
import { REPO_ROOT, killAllRuns, limiter, pythonVersion, requestId, runCase, type CaseInvocation, type CaseRun, type ConformanceCase } from './runner.ts';

const FIXTURES = join(REPO_ROOT, 'test/conformance/fixtures/python-environment');
const RUNTIME_DIR = join(REPO_ROOT, 'bridge-py/lib');
const RUN_TIMEOUT_MS = 120_000;
const run = limiter(Number(process.env.TANDEM_CONFORMANCE_CONCURRENCY ?? 3));

afterAll(() => killAllRuns());

function envCase(name: string, dir: string, handler: string, invocations: CaseInvocation[], env: Record<string, string> = {}): ConformanceCase {
  const expected: Normalised = { requests: [], posts: [], stdout: [], exit: { by_itself: false } };
  return { name, handler_dir: dir, handler, env, invocations, expected, file: 'python-environment.test.ts', root: FIXTURES };
}

/** The JSON body of the run's n-th POST (raw, paths as they were). */
function postBody(r: CaseRun, n = 0): any {
  const posts = r.raw.requests.filter((q) => q.method === 'POST');
  const post = posts[n];
  if (!post) throw new Error(`no POST #${n}; stderr:\n${r.stderr}`);
  if (!post.path.endsWith('/response')) throw new Error(`POST ${post.path}: ${post.body.toString('utf8')}\nstderr:\n${r.stderr}`);
  return JSON.parse(post.body.toString('utf8'));
}

/** The interpreter's own sys.path (after its first entry) and site-packages, without PYTHONPATH. */
function interpreterPaths(python: string): { path: string[]; site: string[] } {
  const out = execFileSync(python, ['-c', 'import json, site, sys; print(json.dumps({"path": sys.path[1:], "site": site.getsitepackages()}))'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return JSON.parse(out);
}

const interpreters = [...pyenvPythons(), debianPython()];

test('the runtime dir holds only the tandem package', () => {
  expect(readdirSync(RUNTIME_DIR).filter((f) => f !== '__pycache__')).toEqual(['tandem']);
});

for (const interp of interpreters) {
  const python = interp.python;
  if (python === undefined) {
    describe.skip(`the Python environment on ${interp.label}: not installed, skipped`, () => {
      test('not installed', () => {});
    });
    continue;
  }

  describe.concurrent(`the Python environment on Python ${interp.version} (${interp.label})`, () => {
    test(
      'sys.path, sys.modules and PYTHONPATH as AWS has them; nothing of the runtime but tandem imports',
      async () => {
        expect(pythonVersion(python)).toBe(interp.version);
        const r = await run(() => runCase(envCase('environment', 'clean', 'lambda_function.report', [{ body: '{}' }]), { python }));
        const body = postBody(r);
        const taskRoot = r.raw.taskRoot;
        const own = interpreterPaths(python);
        const site = own.path.filter((p) => own.site.includes(p));
        expect(site.length).toBeGreaterThan(0);
        expect(body.sys_path).toEqual([
          taskRoot,
          `/opt/python/lib/python${interp.version}/site-packages`,
          '/opt/python',
          ...site,
          RUNTIME_DIR,
          ...own.path,
        ]);
        expect(body.pythonpath).toBe(RUNTIME_DIR);
        // Of the runtime, only `tandem` (and of course the handler's own module) is loaded before the handler.
        expect(body.extra_modules_at_import).toEqual(['lambda_function', 'tandem']);
        for (const [name, outcome] of Object.entries(body.imports as Record<string, string>)) {
          expect(outcome, name).toBe(`ModuleNotFoundError: No module named '${name}'`);
        }
        expect(body.tandem).toEqual({ dir: join(RUNTIME_DIR, 'tandem'), StreamingResponse: true });
        // A child process gets PYTHONPATH: the runtime dir after its own first entry, and only tandem from it.
        expect(body.child.pythonpath).toBe(RUNTIME_DIR);
        expect(body.child.path).toEqual(['', RUNTIME_DIR, ...own.path]);
        expect(body.child.imports).toEqual({
          tandem: join(RUNTIME_DIR, 'tandem'),
          worker: "ModuleNotFoundError: No module named 'worker'",
          tests: "ModuleNotFoundError: No module named 'tests'",
          lib: "ModuleNotFoundError: No module named 'lib'",
        });
      },
      RUN_TIMEOUT_MS,
    );

    test(
      'PYTHONPATH set by the function: no /opt or site-packages entries in front, PYTHONPATH left as it is',
      async () => {
        const layer = '/tandem-test-pythonpath';
        const c = envCase('environment-pythonpath', 'clean', 'lambda_function.report', [{ body: '{}' }], { PYTHONPATH: layer });
        const r = await run(() => runCase(c, { python }));
        const body = postBody(r);
        const own = interpreterPaths(python);
        expect(body.sys_path).toEqual([r.raw.taskRoot, RUNTIME_DIR, layer, ...own.path]);
        expect(body.pythonpath).toBe(layer);
        expect(body.child.path).toEqual(['', layer, ...own.path]);
        expect(body.child.imports.tandem).toBe("ModuleNotFoundError: No module named 'tandem'");
      },
      RUN_TIMEOUT_MS,
    );

    test(
      "modules named like the runtime's own: the handler gets its own, the runtime works beside them",
      async () => {
        const c = envCase('shadowing', 'shadowing', 'lambda_function.handler', [{ body: '{}' }, { body: '{"fail": "x"}' }]);
        const r = await run(() => runCase(c, { python }));
        const names = ['worker', 'tests', 'lib', 'frames', 'logs', 'main', 'bootstrap', 'errors', 'context', 'loader', 'calls', 'streaming', 'heap', 'jsonemu', 'plainjson'];
        expect(postBody(r, 0)).toEqual({
          who: Object.fromEntries(names.map((n) => [n, `user's ${n}`])),
          tandem_is_runtime: true,
          request_id: requestId(1),
        });
        const posts = r.actual.posts;
        expect(posts.map((p) => p.path.split('/').pop())).toEqual(['response', 'error']);
        expect(JSON.parse(posts[1]!.body!)).toEqual({
          errorMessage: 'user frames: x',
          errorType: 'ValueError',
          requestId: requestId(2),
          stackTrace: [
            '  File "/var/task/lambda_function.py", line 15, in handler\n    frames.boom(event["fail"])\n',
            `  File "/var/task/frames.py", line 5, in boom\n    raise ValueError("user frames: %s" % what)\n`,
          ],
        });
        expect(r.actual.stdout).toContain(`[WARNING]\t<TIMESTAMP>\t${requestId(1)}\tfrom the user's logs module`);
        expect(r.actual.stdout.some((l) => l.startsWith('[ERROR] ValueError: user frames: x\r'))).toBe(true);
      },
      RUN_TIMEOUT_MS,
    );
  });
}
