// Lambda's CPU share for a runtime under test: a cgroup-v1 cpu group of its own
// (/sys/fs/cgroup/cpu/<name>, cfs_period_us 100000, cfs_quota_us = MB x 100000 / 1769: 1,769 MB is one vCPU)
// and a cpuacct group of the same name (its usage counts every thread that ever ran in it, exited ones too).
// The runtime is started through `sh`, which writes its own pid to both groups' `tasks` and then execs the
// runtime, so the runtime and every process it starts are in the groups from their first instruction; the
// harness and the fake Runtime API are not. Groups are removed once empty; stale ones of an earlier run
// that crashed are removed at the next start.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CPU_ROOT = '/sys/fs/cgroup/cpu';
const ACCT_ROOT = '/sys/fs/cgroup/cpuacct';
const PREFIX = 'tandem-bench-';
export const PERIOD_US = 100_000;
/** Lambda: 1,769 MB of memory is one full vCPU; CPU is allotted in proportion. */
export const MB_PER_VCPU = 1769;

export function quotaUs(memoryMb) {
  return Math.round((memoryMb * PERIOD_US) / MB_PER_VCPU);
}

/** Why CPU groups cannot be made here, or null when they can (tries to create and remove a probe group). */
export function cpuGroupsUnavailable() {
  if (!existsSync(join(CPU_ROOT, 'cpu.cfs_quota_us'))) return `${CPU_ROOT} is not a cgroup-v1 cpu hierarchy`;
  const probe = join(CPU_ROOT, `${PREFIX}probe-${process.pid}`);
  try {
    mkdirSync(probe);
    writeFileSync(join(probe, 'cpu.cfs_quota_us'), String(PERIOD_US));
  } catch (error) {
    return `${CPU_ROOT} is not writable (${error.code ?? error.message})`;
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // not made
    }
  }
  return null;
}

function readNum(file) {
  return Number(readFileSync(file, 'latin1').trim());
}

function pidsOf(dir) {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Removes groups left by earlier runs whose processes are gone. */
export function removeStaleGroups() {
  for (const root of [CPU_ROOT, ACCT_ROOT]) {
    let names = [];
    try {
      names = readdirSync(root).filter((n) => n.startsWith(PREFIX));
    } catch {
      continue;
    }
    for (const n of names) {
      const pid = Number(/-(\d+)-/.exec(n.slice(PREFIX.length - 1))?.[1]);
      if (pid && existsSync(`/proc/${pid}`)) continue; // another live run's group
      if (pidsOf(join(root, n)).length === 0) {
        try {
          rmdirSync(join(root, n));
        } catch {
          // busy: leave it
        }
      }
    }
  }
}

let seq = 0;

/**
 * A fresh pair of groups for one runtime at `memoryMb`'s share (or with no quota when memoryMb is null:
 * accounting only). `wrap(command, args)` gives the command that starts the runtime inside them.
 */
export function createCpuGroup(label, memoryMb) {
  const name = `${PREFIX}${process.pid}-${++seq}-${label.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  const cpuDir = join(CPU_ROOT, name);
  const acctDir = join(ACCT_ROOT, name);
  mkdirSync(cpuDir);
  const haveAcct = existsSync(join(ACCT_ROOT, 'cpuacct.usage'));
  if (haveAcct) mkdirSync(acctDir);
  writeFileSync(join(cpuDir, 'cpu.cfs_period_us'), String(PERIOD_US));
  writeFileSync(join(cpuDir, 'cpu.cfs_quota_us'), memoryMb ? String(quotaUs(memoryMb)) : '-1');
  const dirs = haveAcct ? [cpuDir, acctDir] : [cpuDir];
  return {
    name,
    memoryMb,
    quotaUs: memoryMb ? quotaUs(memoryMb) : null,
    /** `sh` joins the groups, then execs the runtime (same pid: children inherit the groups). */
    wrap(command, args) {
      const joins = dirs.map((_, i) => `echo $$ > "$${i + 1}/tasks"`).join(' && ');
      return { command: '/bin/sh', args: ['-c', `${joins} && shift ${dirs.length} && exec "$@"`, 'sh', ...dirs, command, ...args] };
    },
    /** Every process now in the group (the runtime's whole tree). */
    pids: () => pidsOf(cpuDir),
    /** CPU time (ns) used by every thread that ran in the group, exited ones included (cpuacct). */
    usageNs: () => (haveAcct ? readNum(join(acctDir, 'cpuacct.usage')) : NaN),
    /** CFS bandwidth statistics: periods, throttled periods, throttled time (ns). */
    stat() {
      const out = {};
      for (const line of readFileSync(join(cpuDir, 'cpu.stat'), 'latin1').split('\n')) {
        const [k, v] = line.split(' ');
        if (k) out[k] = Number(v);
      }
      return out;
    },
    /** SIGKILLs whatever is left in the group, waits for it to empty, removes both groups. */
    async remove() {
      const until = Date.now() + 5000;
      for (;;) {
        const pids = pidsOf(cpuDir);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        if (Date.now() > until) return `group ${name} still holds ${pids.join(', ')}`;
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const dir of dirs) {
        for (let i = 0; ; i++) {
          try {
            rmdirSync(dir);
            break;
          } catch (error) {
            if (error.code === 'ENOENT') break;
            if (i > 100) return `cannot remove ${dir}: ${error.code}`;
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      }
      return null;
    },
  };
}
