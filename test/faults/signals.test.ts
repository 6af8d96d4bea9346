// Fault class 2: signals to each process of the runtime (Node, the Python worker) in each state (init,
// idle, running an invocation, streaming), against the real bootstrap. The runtime ends the way AWS's
// client ends (dying of the signal it got, or with its worker's status, posting nothing it should not),
// nothing hangs, and no process is left behind: in particular the worker ends at once when Node is killed,
// whatever it was doing.
import { describe, expect, it } from 'vitest';
import { alive, childrenOf, event, json, pidFrom, posts, start, stat, tandemLines, tempPath, until, type Run } from './harness.ts';

type State = 'init' | 'idle' | 'busy' | 'stream';

/** A runtime brought into `state`, with the pid of its worker. */
async function inState(state: State): Promise<{ r: Run; worker: number; pending?: Promise<unknown> }> {
  const marker = tempPath('marker');
  if (state === 'init') {
    const r = await start({ env: { FAULTS_INIT_MARKER: marker, FAULTS_INIT_SLEEP: '60' } });
    return { r, worker: await pidFrom(marker) };
  }
  const r = await start({ handler: state === 'stream' ? 'faults.stream' : 'faults.handler' });
  if (state === 'idle') {
    const res = await r.server.enqueue(event({})).result;
    return { r, worker: (json(res.body) as { pid: number }).pid };
  }
  const pending = r.server.enqueue(event({ do: 'sleep', marker })).result;
  return { r, worker: await pidFrom(marker), pending };
}

const STATES: State[] = ['init', 'idle', 'busy', 'stream'];

describe('signals to Node (the runtime process)', () => {
  for (const state of STATES) {
    it(`SIGTERM while ${state}: forwarded, the runtime dies of SIGTERM, nothing is left`, async () => {
      const { r } = await inState(state);
      r.child.kill('SIGTERM');
      expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
      await r.noOrphans();
      expect(r.stderr()).not.toMatch(/Traceback/);
    });

    it(`SIGKILL while ${state}: the worker ends at once (it was sleeping for 60 s)`, async () => {
      const { r, worker } = await inState(state);
      r.child.kill('SIGKILL');
      expect(await r.exit).toEqual({ code: null, signal: 'SIGKILL' });
      await r.noOrphans();
      expect(alive(worker)).toBe(false);
      expect(r.stderr()).not.toMatch(/Traceback/);
    });
  }
});

describe('signals to the Python worker', () => {
  for (const state of STATES) {
    it(`SIGKILL while ${state}: the runtime dies of SIGKILL as AWS's client would, posting nothing for it`, async () => {
      const { r, worker, pending } = await inState(state);
      const before = posts(r).length;
      process.kill(worker, 'SIGKILL');
      if (state === 'stream') {
        // The stream was open: it ends with the exit as its error, then the runtime goes.
        const res = await pending;
        expect(res).toMatchObject({ kind: 'error', errorType: 'Runtime.ExitError', streamed: true });
        expect((json((res as { body: Buffer }).body) as { errorMessage: string }).errorMessage).toMatch(/Runtime exited with error: signal: killed$/);
      }
      expect(await r.exit).toEqual({ code: null, signal: 'SIGKILL' });
      if (state !== 'stream') expect(posts(r)).toHaveLength(before);
      if (state === 'busy') expect(r.server.inFlightIds).toHaveLength(1);
      expect(tandemLines(r)).toEqual([]);
      await r.noOrphans();
    });
  }

  it('SIGTERM while busy: the runtime ends with it (the handler installed no handler for it)', async () => {
    const { r, worker } = await inState('busy');
    process.kill(worker, 'SIGTERM');
    expect(await r.exit).toEqual({ code: null, signal: 'SIGTERM' });
    await r.noOrphans();
  });

  it('SIGSTOP then SIGCONT while busy: not a death; the invocation completes and the runtime serves on', async () => {
    const marker = tempPath('marker');
    const r = await start();
    const pending = r.server.enqueue(event({ do: 'sleep', seconds: 0.3, marker })).result;
    const worker = await pidFrom(marker);
    process.kill(worker, 'SIGSTOP');
    await until(() => stat(worker)?.state === 'T');
    // Stopped (Node got a SIGCHLD for it): still the same worker, still running the invocation.
    expect(childrenOf(r.child.pid!)).toEqual([worker]);
    process.kill(worker, 'SIGCONT');
    expect(json((await pending).body)).toMatchObject({ count: 1, pid: worker });
    expect(json((await r.server.enqueue(event({})).result).body)).toMatchObject({ count: 2, pid: worker });
  });
});
