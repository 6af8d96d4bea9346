// Runs each image's file tree without Docker: the final stage's COPY lines are replayed into a temp folder
// (<tmp>/var/runtime, <tmp>/var/task, ...) from the build context through .dockerignore, the bundle stage's
// output is the repo's dist/ (after `npm run build`), the stage's ENV is applied with image paths moved
// under the temp root, and <tmp>/var/runtime/bootstrap is started as Lambda would start it, against the
// project's Runtime API emulator, with the handler from CMD. No node_modules exists anywhere it can see.
//
// Interpreters: the images' TANDEM_PYTHON (/var/lang/bin/python3.11 or /usr/bin/python3.11) and
// TANDEM_NODE cannot exist here, so TANDEM_PYTHON maps to this machine's Python 3.11 (Debian's
// /usr/bin/python3.11 when present, as it has simplejson like the images; else `python3` resolved once to
// its real path, not the pyenv shim) and TANDEM_NODE to the Node running the tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse as parsePath } from 'node:path';
import { RuntimeApiServer, type InvocationResult } from '../../src/local/runtime-api-server.ts';
import { finalStage, parseDockerfile } from './dockerfile-model.ts';
import { DockerIgnore } from './dockerignore.ts';
import { inRoot, layOut, layoutEnv, type StageOutput } from './layout.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const IGNORE = DockerIgnore.fromFile(join(ROOT, '.dockerignore'));

/** Local stand-ins for what the final stages copy from build stages. */
const STAGE_OUTPUTS: Record<string, StageOutput> = {
  'runtime-build:/build/dist/': { kind: 'local', path: join(ROOT, 'dist') },
  'python-build:/var/lang/': { kind: 'toolchain', env: 'TANDEM_PYTHON' },
  'node-build:/out/bin/node': { kind: 'toolchain', env: 'TANDEM_NODE' },
};

function localPython(): string {
  if (existsSync('/usr/bin/python3.11')) return '/usr/bin/python3.11';
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
}

function findNodeModules(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const p = join(dir, entry.name);
    if (entry.name === 'node_modules') found.push(p);
    else found.push(...findNodeModules(p));
  }
  return found;
}

/** node_modules folders Node's resolver would consult from `dir` upwards. */
function nodeModulesAbove(dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  for (;;) {
    if (existsSync(join(d, 'node_modules'))) out.push(join(d, 'node_modules'));
    if (d === parsePath(d).root) return out;
    d = dirname(d);
  }
}

describe('.dockerignore', () => {
  it('keeps every build-context file the Dockerfiles copy, in every stage', () => {
    for (const file of ['Dockerfile.al2', 'Dockerfile.al2023']) {
      const model = parseDockerfile(readFileSync(join(ROOT, file), 'utf8'));
      for (const stage of model.stages) {
        for (const copy of stage.copies) {
          if (copy.from !== undefined) continue;
          for (const source of copy.sources) {
            const rel = source.replace(/\/$/, '');
            expect(existsSync(join(ROOT, rel)), `${file}:${copy.line}: ${source} exists`).toBe(true);
            expect(IGNORE.excludes(rel), `${file}:${copy.line}: ${source} survives .dockerignore`).toBe(false);
          }
        }
      }
    }
  });

  it('leaves out what the images must not hold', () => {
    for (const path of ['node_modules', 'node_modules/esbuild/package.json', '.git/HEAD', 'dist/runtime.mjs', 'test/image/lint.test.ts', 'bench/run.mjs', 'bridge-py/tests/test_frames.py', 'bridge-py/lib/tandem/__pycache__/x.cpython-311.pyc', 'docs/images.md', 'examples/mixed/node_modules/pkg/index.js']) {
      expect(IGNORE.excludes(path), path).toBe(true);
    }
  });
});

interface ImageCase {
  file: string;
  buildArgs: Record<string, string>;
  /** Checks the invocation's outcome (a response, by then). */
  check(result: InvocationResult & { kind: 'response' }, requestId: string): void;
}

/** examples/python-hello answers with a greeting built from the event and the context. */
function checkHello(result: InvocationResult & { kind: 'response' }, requestId: string): void {
  expect(result.streamed).toBe(false);
  expect(JSON.parse(result.body.toString())).toMatchObject({
    message: 'Hello, image layout!',
    function: 'tandem-image-layout',
    memory_mb: 512,
    request_id: requestId,
    warm_invocations: 1,
  });
}

/** examples/python-streaming streams a text after an HTTP prelude (status, headers). */
function checkStreaming(result: InvocationResult & { kind: 'response' }): void {
  expect(result.streamed).toBe(true);
  expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
  const body = result.body.toString();
  const separator = body.indexOf('\0'.repeat(8));
  expect(separator).toBeGreaterThan(0);
  expect(JSON.parse(body.slice(0, separator))).toMatchObject({ statusCode: 200 });
  expect(body.slice(separator + 8)).toMatch(/^Streaming lets a function send its answer/);
}

const CASES: ImageCase[] = [
  { file: 'Dockerfile.al2', buildArgs: {}, check: checkHello },
  { file: 'Dockerfile.al2023', buildArgs: {}, check: checkHello },
  // As template.yaml builds its streaming function.
  { file: 'Dockerfile.al2023', buildArgs: { FUNCTION_DIR: 'examples/python-streaming' }, check: checkStreaming },
];

describe.each(CASES)('$file $buildArgs laid out in a temp folder', ({ file, buildArgs, check }) => {
  const stage = finalStage(parseDockerfile(readFileSync(join(ROOT, file), 'utf8'), buildArgs));
  let root: string;
  let server: RuntimeApiServer;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    // The image's bundle stage runs `npm run build`; here the repo's dist/ stands in for its output.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
    root = mkdtempSync(join(tmpdir(), 'tandem-image-'));
    server = await RuntimeApiServer.start();
  });

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // The bootstrap leads its own process group: end it with everything it started.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('holds the runtime and the function where the image contract says, and no node_modules', () => {
    const layout = layOut(stage, { context: ROOT, ignore: IGNORE, root, stageOutputs: STAGE_OUTPUTS });
    expect(layout.written).toContain('/var/runtime/bootstrap');
    expect(layout.written).toContain('/var/runtime/dist/runtime.mjs');
    expect(layout.written).toContain('/var/runtime/bridge-py/worker.py');
    expect(layout.written).toContain('/var/task/lambda_function.py');
    expect(layout.written.some((p) => p.includes('/tests/') || p.includes('__pycache__'))).toBe(false);
    expect(findNodeModules(root)).toEqual([]);
    expect(nodeModulesAbove(root)).toEqual([]);
  });

  it('answers an invocation of the CMD handler through the Runtime API', async () => {
    expect(stage.cmd).toBeDefined();
    const [handler] = stage.cmd!;
    const env = layoutEnv(stage, root, {
      TANDEM_PYTHON: localPython(),
      TANDEM_NODE: process.execPath,
      // The tools the bootstrap may call (bash, env) plus the test's node; nothing from the repository.
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    });
    expect(env.LAMBDA_TASK_ROOT).toBe(inRoot(root, '/var/task'));
    expect(env.LAMBDA_RUNTIME_DIR).toBe(inRoot(root, '/var/runtime'));
    child = spawn(inRoot(root, '/var/runtime/bootstrap'), [], {
      cwd: env.LAMBDA_TASK_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env,
        AWS_LAMBDA_RUNTIME_API: server.address,
        _HANDLER: handler,
        HOME: root,
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'tandem-image-layout',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/tandem-image-layout',
        AWS_LAMBDA_LOG_STREAM_NAME: 'layout',
      },
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<InvocationResult>((resolve) =>
      child!.once('exit', (code, signal) =>
        resolve({
          kind: 'error',
          errorType: 'Runtime.ExitError',
          body: Buffer.from(`bootstrap exited (${code ?? signal}) before answering`),
          source: 'platform',
          streamed: false,
        }),
      ),
    );

    const event = { name: 'image layout', prompt: 'image layout', delay: 0 };
    const pending = server.enqueue({ body: Buffer.from(JSON.stringify(event)) });
    const result = await Promise.race([pending.result, exited]);
    if (result.kind !== 'response') {
      expect.fail(`${result.errorType}: ${result.body.toString()}\n--- bootstrap output ---\n${output}`);
    }
    check(result, pending.requestId);
  });
});
