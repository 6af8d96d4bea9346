import { describe, expect, test } from 'vitest';
import { NODE_CASES_DIR, checkCase, loadCases, limiter } from '/work/main/test/conformance/runner.ts';
const cases = loadCases(NODE_CASES_DIR).filter((c) => !process.env.ONLY || c.name.includes(process.env.ONLY));
const run = limiter(4);
describe.concurrent('dev', () => {
  for (const c of cases) test(c.name, async () => {
    const r = await run(() => checkCase(c, { python: '/usr/bin/python3', bootstrap: '/tmp/nh/bootstrap' }));
    if (!r.pass) expect.fail(r.report);
  }, 60000);
});
