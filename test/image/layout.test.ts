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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse as parsePath } from 'node:path';
import { RuntimeApiServer, type InvocationResult } from '../../src/local/runtime-api-server.ts';
import { finalStage, parseDockerfile, type Stage } from './dockerfile-model.ts';
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

/** The final stage's ENV under the temp root, with this machine's interpreters standing in for the image's. */
function imageEnv(stage: Stage, root: string, python: string): Record<string, string> {
  return layoutEnv(stage, root, {
    TANDEM_PYTHON: python,
    TANDEM_NODE: process.execPath,
    // The tools the bootstrap may call (bash, env) plus the test's node; nothing from the repository.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
  });
}

/** Starts <root>/var/runtime/bootstrap as Lambda would (own process group); `invoke` sends one event. */
function startBootstrap(root: string, env: Record<string, string>, handler: string, server: RuntimeApiServer) {
  let output = '';
  const child = spawn(inRoot(root, '/var/runtime/bootstrap'), [], {
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
    child.once('exit', (code, signal) =>
      resolve({
        kind: 'error',
        errorType: 'Runtime.ExitError',
        body: Buffer.from(`bootstrap exited (${code ?? signal}) before answering`),
        source: 'platform',
        streamed: false,
      }),
    ),
  );
  return {
    child,
    /** One invocation; fails the test unless the function answered with a response. */
    async invoke(body: Buffer): Promise<{ result: InvocationResult & { kind: 'response' }; requestId: string }> {
      const pending = server.enqueue({ body });
      const result = await Promise.race([pending.result, exited]);
      if (result.kind !== 'response') {
        expect.fail(`${result.errorType}: ${result.body.toString()}\n--- bootstrap output ---\n${output}`);
      }
      return { result, requestId: pending.requestId };
    },
  };
}

/** Ends a bootstrap's process group (it leads its own) with everything it started. */
function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

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

  beforeAll(async () => {
    // The image's bundle stage runs `npm run build`; here the repo's dist/ stands in for its output.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
    root = mkdtempSync(join(tmpdir(), 'tandem-image-'));
    server = await RuntimeApiServer.start();
  });

  afterAll(async () => {
    killGroup(child);
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
    const env = imageEnv(stage, root, localPython());
    expect(env.LAMBDA_TASK_ROOT).toBe(inRoot(root, '/var/task'));
    expect(env.LAMBDA_RUNTIME_DIR).toBe(inRoot(root, '/var/runtime'));
    const started = startBootstrap(root, env, handler!, server);
    child = started.child;
    const event = { name: 'image layout', prompt: 'image layout', delay: 0 };
    const { result, requestId } = await started.invoke(Buffer.from(JSON.stringify(event)));
    check(result, requestId);
  });
});

// boto3 and botocore: each image pip-installs them into its interpreter's site-packages (BOTO3_VERSION; the RUN
// line checks the place at build time, lint.test.ts checks the line). Here a venv of this machine's Python
// stands in for that interpreter, with stand-in boto3 and botocore packages of the pinned version in its
// site-packages, where pip would put them: the handler gets them, after the task root and before the runtime
// dir as on AWS, and a boto3 packaged in the task root wins over the image's.
describe.each(['Dockerfile.al2', 'Dockerfile.al2023'])('%s: boto3 in the import order', (file) => {
  const stage = finalStage(parseDockerfile(readFileSync(join(ROOT, file), 'utf8')));
  const version = stage.args.get('BOTO3_VERSION');
  let root: string;
  let server: RuntimeApiServer;
  let child: ChildProcess | undefined;
  let python: string;
  let sitePackages: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
    root = mkdtempSync(join(tmpdir(), 'tandem-image-boto3-'));
    layOut(stage, { context: ROOT, ignore: IGNORE, root, stageOutputs: STAGE_OUTPUTS });
    const venv = join(root, 'stand-in-python');
    execFileSync(localPython(), ['-m', 'venv', '--without-pip', '--system-site-packages', venv]);
    python = join(venv, 'bin', 'python');
    sitePackages = execFileSync(python, ['-c', 'import site; print(site.getsitepackages()[0])'], { encoding: 'utf8' }).trim();
    for (const pkg of ['boto3', 'botocore']) {
      mkdirSync(join(sitePackages, pkg));
      writeFileSync(join(sitePackages, pkg, '__init__.py'), `__version__ = ${JSON.stringify(version)}\n`);
    }
    writeFileSync(
      inRoot(root, '/var/task/boto3_probe.py'),
      'import sys\n\nimport boto3\nimport botocore\n\n\ndef handler(event, context):\n' +
        '    return {"boto3": boto3.__file__, "version": boto3.__version__, "botocore": botocore.__file__, "sys_path": sys.path}\n',
    );
  });

  afterAll(async () => {
    killGroup(child);
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function probe(): Promise<{ boto3: string; version: string; botocore: string; sys_path: string[] }> {
    // A fresh runtime (and Runtime API: the previous runtime's /next may still be held) per probe.
    killGroup(child);
    await server?.close();
    server = await RuntimeApiServer.start();
    const started = startBootstrap(root, imageEnv(stage, root, python), 'boto3_probe.handler', server);
    child = started.child;
    const { result } = await started.invoke(Buffer.from('{}'));
    return JSON.parse(result.body.toString());
  }

  it('pins a version', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("imports the image's boto3 and botocore, from site-packages between the task root and the runtime dir", async () => {
    const got = await probe();
    expect(got.boto3).toBe(join(sitePackages, 'boto3', '__init__.py'));
    expect(got.botocore).toBe(join(sitePackages, 'botocore', '__init__.py'));
    expect(got.version).toBe(version);
    const at = (p: string) => got.sys_path.indexOf(p);
    expect(at(inRoot(root, '/var/task'))).toBe(0);
    expect(at(sitePackages)).toBeGreaterThan(at('/opt/python'));
    expect(at(inRoot(root, '/var/runtime/bridge-py/lib'))).toBeGreaterThan(at(sitePackages));
  });

  it('lets a boto3 packaged in the task root win over the image one', async () => {
    mkdirSync(inRoot(root, '/var/task/boto3'));
    writeFileSync(inRoot(root, '/var/task/boto3/__init__.py'), '__version__ = "packaged"\n');
    const got = await probe();
    expect(got.boto3).toBe(inRoot(root, '/var/task/boto3/__init__.py'));
    expect(got.version).toBe('packaged');
    expect(got.botocore).toBe(join(sitePackages, 'botocore', '__init__.py'));
  });
});
