// Static checks of Dockerfile.al2 and Dockerfile.al2023 (no Docker engine here): dockerfile-utils'
// validator finds no problem, and each file keeps the properties the images promise: the right bases,
// multi-stage with dev dependencies confined to the build stage, the runtime layout, checksums, CMD.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { finalStage, parseDockerfile, stageNamed, type DockerfileModel } from './dockerfile-model.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

const IMAGES = [
  { file: 'Dockerfile.al2', base: 'public.ecr.aws/lambda/provided:al2', python: '/var/lang/bin/python3.11' },
  { file: 'Dockerfile.al2023', base: 'public.ecr.aws/lambda/provided:al2023', python: '/usr/bin/python3.11' },
] as const;

const NPM_INSTALL = /\bnpm\s+(ci|install|i)\b/;

describe('the Dockerfile linter', () => {
  it('reports broken Dockerfiles (so a clean result means something)', () => {
    const errors = validate('FROMM scratch\nCOPY\n').filter((d) => d.severity === 1);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe.each(IMAGES)('$file', ({ file, base, python }) => {
  const text = read(file);
  const model: DockerfileModel = parseDockerfile(text);
  const last = finalStage(model);

  it('has no diagnostics from dockerfile-utils', () => {
    const diagnostics = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(diagnostics).toEqual([]);
  });

  it(`builds on ${base} in a multi-stage build`, () => {
    expect(model.stages.length).toBeGreaterThanOrEqual(2);
    expect(last.image).toBe(base);
    for (const stage of model.stages.slice(0, -1)) expect(stage.name, `stage FROM ${stage.image} needs a name`).toBeTruthy();
    // Every base is either the Lambda base of this file or the node image of the bundle stage.
    for (const stage of model.stages) {
      if (stage.name === 'runtime-build') continue;
      expect(stage.image).toBe(base);
    }
  });

  it('builds the bundle in its own stage and ships only dist/', () => {
    const build = stageNamed(model, 'runtime-build');
    expect(build, 'a stage named runtime-build').toBeDefined();
    expect(build!.platform).toBe('$BUILDPLATFORM');
    expect(build!.workdir).toBe('/build');
    expect(build!.runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(build!.runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const fromBuild = last.copies.filter((c) => c.from === 'runtime-build');
    expect(fromBuild.map((c) => [c.sources, c.dest])).toEqual([[['/build/dist/'], '/var/runtime/dist/']]);
  });

  it('keeps npm and node_modules out of the final stage', () => {
    for (const run of last.runs) expect(run).not.toMatch(NPM_INSTALL);
    for (const copy of last.copies) {
      for (const src of copy.sources) expect(src).not.toMatch(/node_modules/);
    }
    expect(text).not.toMatch(/--production=false|--include=dev/);
  });

  it('lays out /var/runtime and /var/task and names the interpreters', () => {
    expect(last.env.get('LAMBDA_RUNTIME_DIR')).toBe('/var/runtime');
    expect(last.env.get('LAMBDA_TASK_ROOT')).toBe('/var/task');
    expect(last.env.get('TANDEM_PYTHON')).toBe(python);
    expect(last.env.get('TANDEM_NODE')).toMatch(/^\/.+\/node(-\d+)?$/);
    const dests = last.copies.map((c) => c.dest);
    expect(dests).toContain('/var/runtime/bootstrap');
    expect(dests).toContain('/var/runtime/bridge-py/');
    expect(dests).toContain('/var/task/');
    const bootstrap = last.copies.find((c) => c.dest === '/var/runtime/bootstrap');
    expect(bootstrap?.sources).toEqual(['bootstrap']);
    expect(bootstrap?.flags.chmod).toBe('755');
  });

  it('runs the example handler by default', () => {
    expect(last.cmd).toEqual(['lambda_function.lambda_handler']);
    expect(last.copies.some((c) => c.sources.includes('examples/python-hello/') && c.dest === '/var/task/')).toBe(true);
    expect(last.args.get('FUNCTION_DIR')).toBe('examples/python-hello');
    expect(
      last.runs.some((r) =>
        /pip install[\s\S]*--target "\$\{LAMBDA_TASK_ROOT\}" -r "\$\{LAMBDA_TASK_ROOT\}\/requirements\.txt"/.test(r),
      ),
    ).toBe(true);
  });

  it('ships bytecode for the worker and installs simplejson', () => {
    expect(last.runs.some((r) => /-m compileall\b[\s\S]*\/bridge-py/.test(r))).toBe(true);
    expect(model.stages.some((s) => s.runs.some((r) => /pip install[^\n]*\bsimplejson\b/.test(r)))).toBe(true);
  });

  it('installs boto3 and botocore pinned, into the interpreter\'s site-packages, unless BOTO3_VERSION is empty', () => {
    expect(last.args.get('BOTO3_VERSION')).toMatch(/^\d+\.\d+\.\d+$/);
    const run = last.runs.find((r) => /\bboto3==/.test(r));
    expect(run, 'a RUN line installing boto3').toBeDefined();
    expect(run).toMatch(/if \[ -n "\$\{BOTO3_VERSION\}" \]; then/);
    expect(run).toMatch(/"\$TANDEM_PYTHON" -m pip install [^\n]*\\\s+"boto3==\$\{BOTO3_VERSION\}" "botocore==\$\{BOTO3_VERSION\}"/);
    // Not beside the function (--target), not in a user or other prefix: the interpreter's own site-packages,
    // which the build checks.
    expect(run).not.toMatch(/--target|--user|--prefix|--root[\s=]/);
    expect(run).toMatch(/in site\.getsitepackages\(\)/);
    // In a layer below the function's: changing the function does not reinstall boto3.
    const at = (re: RegExp) => last.instructions.findIndex((i) => re.test(i.getTextContent()));
    expect(at(/\bboto3==/)).toBeLessThan(at(/-r "\$\{LAMBDA_TASK_ROOT\}\/requirements\.txt"/));
  });

  it('pins the same boto3 in both images', () => {
    const other = finalStage(parseDockerfile(read(file === 'Dockerfile.al2' ? 'Dockerfile.al2023' : 'Dockerfile.al2')));
    expect(last.args.get('BOTO3_VERSION')).toBe(other.args.get('BOTO3_VERSION'));
  });

  it('leaves bytecode writing and CA certificates to the defaults', () => {
    expect(text).not.toMatch(/PYTHONDONTWRITEBYTECODE|NODE_EXTRA_CA_CERTS/);
  });

  it('knows the target architecture', () => {
    expect(text).toMatch(/^ARG TARGETARCH$/m);
    expect(text).toMatch(/\$\{TARGETARCH/);
  });
});

describe('Dockerfile.al2 (legacy)', () => {
  const text = read('Dockerfile.al2');
  const model = parseDockerfile(text);

  it('says it is legacy, with the end-of-support and deprecation dates, at the top', () => {
    expect(model.header).toMatch(/LEGACY/);
    expect(model.header).toMatch(/Dockerfile\.al2023/);
    expect(model.header).toMatch(/2026-06-30/); // AL2 end of support, provided.al2 deprecation
    expect(model.header).toMatch(/2026-07-31/); // function create blocked
    expect(model.header).toMatch(/2026-08-31/); // function update blocked
    expect(model.header).toMatch(/arm64/);
  });

  it('compiles Python 3.11 against openssl11-devel, never an OpenSSL from source', () => {
    const py = stageNamed(model, 'python-build');
    expect(py).toBeDefined();
    const runs = py!.runs.join('\n');
    expect(runs).toMatch(/\bopenssl11-devel\b/);
    expect(runs).not.toMatch(/\bopenssl-devel\b/);
    expect(text).not.toMatch(/openssl\.org|openssl-1\.1\.\d+[a-z]?\.tar/);
    expect(runs).toMatch(/--with-openssl=/);
    expect(py!.args.get('PYTHON_VERSION')).toMatch(/^3\.11\.\d+$/);
    expect(py!.args.get('PYTHON_SHA256')).toMatch(/^[0-9a-f]{64}$/);
    expect(runs).toMatch(/sha256sum -c/);
    // The final stage gets only the built prefix, plus the OpenSSL 1.1 shared libraries.
    const last = finalStage(model);
    expect(last.copies.filter((c) => c.from === 'python-build').map((c) => c.sources)).toEqual([['/var/lang/']]);
    expect(last.runs.join('\n')).toMatch(/\bopenssl11-libs\b/);
  });

  it('fetches the glibc-2.17 Node 22 build for x86_64, checked against a SHA256 build argument', () => {
    const node = stageNamed(model, 'node-build');
    expect(node).toBeDefined();
    expect(node!.args.has('NODE_SHA256')).toBe(true);
    expect(node!.args.get('NODE_SHA256')).toBeUndefined(); // no default: a build without it must stop
    expect(node!.args.get('NODE_VERSION')).toMatch(/^22\.\d+\.\d+$/);
    const runs = node!.runs.join('\n');
    expect(runs).toContain(
      'https://unofficial-builds.nodejs.org/download/release/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-x64-glibc-217.tar.xz',
    );
    expect(runs).toMatch(/echo "\$\{NODE_SHA256\}  \/tmp\/node\.tar" \| sha256sum -c -/);
    expect(runs).toMatch(/arm64\)[^\n]*Dockerfile\.al2023/);
    const last = finalStage(model);
    expect(last.copies.filter((c) => c.from === 'node-build').map((c) => [c.sources, c.dest])).toEqual([
      [['/out/bin/node'], '/var/lang/bin/node'],
    ]);
  });
});

describe('Dockerfile.al2023', () => {
  const text = read('Dockerfile.al2023');
  const last = finalStage(parseDockerfile(text));

  it('installs the distribution packages python3.11 and nodejs<N> with microdnf', () => {
    const runs = last.runs.join('\n');
    expect(runs).toMatch(/microdnf install\b[\s\S]*\bpython3\.11\b[\s\S]*"nodejs\$\{NODE_MAJOR\}"/);
    expect(last.args.get('NODE_MAJOR')).toMatch(/^(22|24)$/);
    expect(last.env.get('TANDEM_NODE')).toBe(`/usr/bin/node-${last.args.get('NODE_MAJOR')}`);
    expect(last.runs.join('\n')).not.toMatch(/\byum install\b/);
  });
});

describe('template.yaml', () => {
  const text = read('template.yaml');

  it('deploys the image with SAM, with a response-streaming function URL', () => {
    expect(text).toMatch(/^Transform: AWS::Serverless-2016-10-31$/m);
    expect(text).toMatch(/PackageType: Image/);
    expect(text).toMatch(/Dockerfile: Dockerfile\.al2023/);
    expect(text).toMatch(/DockerContext: \./);
    expect(text).toMatch(/InvokeMode: RESPONSE_STREAM/);
    // The streaming function is built from the streaming example (the layout test runs that build).
    expect(text).toMatch(/DockerBuildArgs:\n\s+FUNCTION_DIR: examples\/python-streaming\n/);
    expect(text).not.toMatch(/^\t/m);
  });
});
