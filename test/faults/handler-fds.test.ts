// Fault class 1: a function that misbehaves on file descriptors and processes, against the real bootstrap.
// For each: the answer Lambda would give (the function's own result or error; Runtime.ExitError and the
// runtime ending with the worker's status, as AWS's client ends; or a clear Runtime.WorkerProtocolError),
// no hang, one `tandem:` line when a worker is replaced, no fd of a dead worker left in Node, and the next
// invocation served.
import { describe, expect, it } from 'vitest';
import { alive, childrenOf, cloexec, event, fdLinks, json, pidFrom, posts, start, tandemLines, tempPath, until, type Run } from './harness.ts';

/** The single worker of a runtime, once it is there. */
async function workerOf(r: Run): Promise<number> {
  await until(() => childrenOf(r.child.pid!).length > 0);
  return childrenOf(r.child.pid!)[0]!;
}

/** The frame pipes `pid` holds (close-on-exec pipes/sockets above fd 2: fds the test runner passed down are not), as links. */
function framePipes(pid: number): string[] {
  return [...fdLinks(pid)].filter(([fd, l]) => fd > 2 && /^(pipe|socket):/.test(l) && cloexec(pid, fd)).map(([, l]) => l);
}

/** After a worker was replaced: Node holds none of the old worker's pipes, and the old worker is gone. */
async function expectForgotten(r: Run, oldWorker: number, oldPipes: string[]): Promise<void> {
  await until(() => !alive(oldWorker));
  const nodeLinks = [...fdLinks(r.child.pid!).values()];
  expect(nodeLinks.filter((l) => oldPipes.includes(l))).toEqual([]);
}

async function ok(r: Run, count: number): Promise<void> {
  const res = await r.server.enqueue(event({})).result;
  expect(res.kind).toBe('response');
  expect(json(res.body)).toMatchObject({ count });
}

async function endsCleanly(r: Run): Promise<void> {
  r.child.kill('SIGTERM');
  expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
  await r.noOrphans();
}

describe('a function that forks', () => {
  it('os.fork(), then the worker exits while the child sleeps: the runtime ends with the exit status at once, posts nothing; the child never held the pipes', async () => {
    const r = await start();
    await ok(r, 1);
    const pidfile = tempPath('child');
    const dying = r.server.enqueue(event({ do: 'fork_then_exit', pidfile }));
    const child = await pidFrom(pidfile);
    expect(await r.exit).toEqual({ code: 3, signal: null });
    expect(alive(child)).toBe(true); // the runtime did not wait for it (Lambda ends the sandbox; cleanup kills it)
    await until(() => framePipes(child).length === 0); // /dev/null in their place as soon as it runs
    expect(posts(r)).toHaveLength(1);
    expect(r.server.inFlightIds).toEqual([dying.requestId]);
    expect(tandemLines(r)).toEqual([]); // as AWS's client: the worker's exit is the runtime's exit
  });

  it('a fork straight from libc (no at-fork hook: the child keeps the pipes open): the same, from the process exit', async () => {
    const r = await start();
    const pidfile = tempPath('child');
    r.server.enqueue(event({ do: 'c_fork_then_exit', pidfile }));
    const child = await pidFrom(pidfile);
    expect(await r.exit).toEqual({ code: 3, signal: null });
    expect(alive(child)).toBe(true);
    expect(framePipes(child)).toHaveLength(2); // it does hold them: EOF never came
    expect(posts(r)).toEqual([]);
  });

  it('with several workers (AWS_LAMBDA_MAX_CONCURRENCY=2): Runtime.ExitError for that invocation, one line, a new worker serves on', async () => {
    const r = await start({ env: { AWS_LAMBDA_MAX_CONCURRENCY: '2' } });
    const pidfile = tempPath('child');
    const res = await r.server.enqueue(event({ do: 'c_fork_then_exit', pidfile })).result;
    expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.ExitError' });
    expect((json(res.body) as { errorMessage: string }).errorMessage).toMatch(/Runtime exited with error: exit status 3$/);
    expect(alive(await pidFrom(pidfile))).toBe(true);
    const next = await Promise.all([r.server.enqueue(event({})).result, r.server.enqueue(event({})).result]);
    expect(next.map((x) => x.kind)).toEqual(['response', 'response']);
    expect(tandemLines(r)).toEqual([expect.stringMatching(/^tandem: the Python worker .* exited during invocation .* \(exit status 3\); starting a new worker$/)]);
  });

  it('a multiprocessing child that outlives the invocation holds /dev/null, not the pipes; the worker serves on', async () => {
    const r = await start();
    const pidfile = tempPath('child');
    const res = await r.server.enqueue(event({ do: 'multiprocessing_child', pidfile })).result;
    expect(json(res.body)).toMatchObject({ count: 1 });
    const child = await pidFrom(pidfile);
    const worker = await workerOf(r);
    const nodeLinks = new Set(fdLinks(r.child.pid!).values());
    const pipeFds = [...fdLinks(worker)].filter(([fd, l]) => fd > 2 && /^pipe:/.test(l) && nodeLinks.has(l) && cloexec(worker, fd)).map(([fd]) => fd);
    expect(pipeFds).toHaveLength(2);
    await until(() => pipeFds.every((fd) => fdLinks(child).get(fd) === '/dev/null'));
    await ok(r, 2);
    expect(alive(child)).toBe(true);
  });
});

describe('a function that uses fds 3 and 4 by number (the worker keeps its pipes elsewhere, as AWS keeps nothing there)', () => {
  it('closing them does not disturb the worker', async () => {
    const r = await start();
    const res = await r.server.enqueue(event({ do: 'close_fixed' })).result;
    expect(json(res.body)).toMatchObject({ count: 1 });
    await ok(r, 2);
    await endsCleanly(r);
  });

  it('dup2 of stdout and /dev/null onto them: the result is posted as usual, nothing of the protocol reaches the logs', async () => {
    const r = await start();
    const res = await r.server.enqueue(event({ do: 'dup2_fixed' })).result;
    expect(json(res.body)).toMatchObject({ count: 1 });
    await ok(r, 2);
    expect(r.stdout()).toBe('');
    await endsCleanly(r);
  });

  it('writing a frame header to fd 4: the function gets EBADF like any closed fd, the error is posted, the worker serves on', async () => {
    const r = await start();
    const res = await r.server.enqueue(event({ do: 'write_fixed' })).result;
    expect(res).toMatchObject({ kind: 'error', errorType: 'OSError' });
    expect((json(res.body) as { errorMessage: string }).errorMessage).toBe('[Errno 9] Bad file descriptor');
    await ok(r, 2);
    await endsCleanly(r);
  });
});

describe("a function that breaks the worker's own pipes (found through /proc/self/fd)", () => {
  const cases: Array<[string, RegExp]> = [
    ['close_real_then_sleep', /frame pipe was closed while the worker kept running/],
    ['devnull_over_real', /frame pipe was closed while the worker kept running/],
    ['stdout_over_real_then_sleep', /frame pipe was closed while the worker kept running/],
    ['partial_frame', /waits for its next message while the frame it sent last is incomplete/],
  ];
  for (const [what, message] of cases) {
    it(`${what}: Runtime.WorkerProtocolError for the invocation, one line, the worker replaced, the next invocation served`, async () => {
      const r = await start();
      await ok(r, 1);
      const old = await workerOf(r);
      const oldPipes = framePipes(old);
      const res = await r.server.enqueue(event({ do: what })).result;
      expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.WorkerProtocolError' });
      expect((json(res.body) as { errorMessage: string }).errorMessage).toMatch(message);
      await expectForgotten(r, old, oldPipes);
      await ok(r, 1); // a new worker: module state starts over
      const lines = tandemLines(r);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tandem: the Python worker started by bootstrap \(pid \d+\) broke the worker protocol: .*; starting a new worker$/);
      expect(lines[0]).toMatch(message);
      expect(r.stdout()).toBe(''); // no frame bytes in the function's logs
      await endsCleanly(r);
    });
  }

  const idle: Array<[string, RegExp]> = [
    ['frame_after_return', /unexpected "result" frame while no job runs/],
    ['garbage_after_return', /frame of 4294967295 bytes is over the limit/],
  ];
  for (const [what, message] of idle) {
    it(`${what} (a thread writes to the pipe between invocations): one line, the worker replaced, the runtime goes on`, async () => {
      const r = await start();
      const old = await workerOf(r);
      const res = await r.server.enqueue(event({ do: what })).result;
      expect(json(res.body)).toMatchObject({ count: 1 }); // its own invocation was answered before
      await until(() => tandemLines(r).length > 0);
      expect(tandemLines(r)).toEqual([expect.stringMatching(message)]);
      await until(() => !alive(old));
      await ok(r, 1);
      await endsCleanly(r);
    });
  }
});
