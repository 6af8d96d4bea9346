// examples/mixed end to end: the Node HTTP API handler validating in Node and scoring in Python, through the
// real runtime against the emulator, and through `tandem invoke` (the CLI `npm run invoke` runs).
import { afterEach, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, realPython, startRuntime, type Run } from './harness.ts';

const EXAMPLE = join(ROOT, 'examples', 'mixed');
const event = (name: string) => JSON.parse(readFileSync(join(EXAMPLE, 'events', `${name}.json`), 'utf8')) as unknown;

let run: Run | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

function httpResult(r: Awaited<ReturnType<Run['invoke']>>): { statusCode: number; body: Record<string, unknown> } {
  if (r.kind !== 'response') throw new Error(`${r.kind}: ${r.body.toString()}`);
  const doc = JSON.parse(r.body.toString()) as { statusCode: number; body: string };
  return { statusCode: doc.statusCode, body: JSON.parse(doc.body) as Record<string, unknown> };
}

describe('examples/mixed', () => {
  test('through the runtime: scored in Python, rejected in Node, a Python error as 502', async () => {
    run = await startRuntime({
      files: {
        'index.mjs': readFileSync(join(EXAMPLE, 'index.mjs'), 'utf8'),
        'model.py': readFileSync(join(EXAMPLE, 'model.py'), 'utf8'),
      },
      handler: 'index.handler',
    });
    const ok = httpResult(await run.invoke(event('score'), undefined, 'req-mixed-1'));
    expect(ok).toMatchObject({ statusCode: 200, body: { label: 'positive', requestId: 'req-mixed-1' } });
    expect(typeof ok.body['remainingMs']).toBe('number');
    expect(httpResult(await run.invoke(event('invalid')))).toEqual({ statusCode: 400, body: { error: '"text" must be a non-empty string' } });
    expect(httpResult(await run.invoke(event('python-error')))).toEqual({
      statusCode: 502,
      body: { error: 'scoring failed', type: 'ValueError', message: 'unsupported language: fr' },
    });
  });

  test.runIf(existsSync(join(ROOT, 'dist', 'cli.mjs')))('through tandem invoke', async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(ROOT, 'dist', 'cli.mjs'), 'invoke', 'index.handler', '--dir', EXAMPLE, '--event', join(EXAMPLE, 'events', 'score.json')],
        { env: { ...process.env, TANDEM_PYTHON: realPython(), PYTHONDONTWRITEBYTECODE: '1' }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out.code, out.stderr).toBe(0);
    const doc = JSON.parse(out.stdout) as { statusCode: number; body: string };
    expect(doc.statusCode).toBe(200);
    expect(JSON.parse(doc.body)).toMatchObject({ label: 'positive', score: 1 });
  });
});
