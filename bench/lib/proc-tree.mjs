// What a runtime costs the machine, read from /proc: the process tree of a runtime (its descendants and its
// process group), the resident memory summed over that tree, and the CPU time its threads have used.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return { pid, comm: text.slice(text.indexOf('(') + 1, close), state: fields[0], ppid: +fields[1], pgid: +fields[2] };
  } catch {
    return null;
  }
}

/** The command name of a process ('' once it is gone). */
export function commOf(pid) {
  return readStat(pid)?.comm ?? '';
}

/** Open file descriptors summed over the processes (a leak shows as growth over a soak). */
export function fdCount(procs) {
  let n = 0;
  for (const p of procs) {
    try {
      n += readdirSync(`/proc/${p.pid}/fd`).length;
    } catch {
      // ended
    }
  }
  return n;
}

/** The runtime's process and every live process that descends from it or shares its process group. */
export function treePids(rootPid) {
  const all = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const st = readStat(+name);
    if (st && st.state !== 'Z') all.push(st);
  }
  const members = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const st of all) {
      if (!members.has(st.pid) && (members.has(st.ppid) || st.pgid === rootPid)) {
        members.add(st.pid);
        grew = true;
      }
    }
  }
  return all.filter((st) => members.has(st.pid)).map((st) => ({ pid: st.pid, comm: st.comm }));
}

function statusKiB(pid, field) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    const at = text.indexOf(`${field}:`);
    return at < 0 ? 0 : parseInt(text.slice(at + field.length + 1), 10);
  } catch {
    return 0;
  }
}

function exeOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** Resident set sizes (KiB) of the given processes, now, with their anonymous and file-backed parts. */
export function rssKiB(procs) {
  return procs.map((p) => ({
    ...p,
    exe: exeOf(p.pid),
    rssKiB: statusKiB(p.pid, 'VmRSS'),
    anonKiB: statusKiB(p.pid, 'RssAnon'),
    fileKiB: statusKiB(p.pid, 'RssFile'),
  }));
}

/** Sum of VmRSS (KiB) over the processes, now. */
export function rssSumKiB(procs) {
  let sum = 0;
  for (const p of procs) sum += statusKiB(p.pid, 'VmRSS');
  return sum;
}

/** Sum of each process's own peak resident size (VmHWM, KiB): an upper bound of the tree's peak. */
export function hwmSumKiB(procs) {
  let sum = 0;
  for (const p of procs) sum += statusKiB(p.pid, 'VmHWM');
  return sum;
}

/** CPU time (ns) used so far by every thread of the given processes (schedstat: nanosecond resolution). */
export function cpuNs(procs) {
  let sum = 0;
  for (const p of procs) sum += processCpuNs(p);
  return sum;
}

/** CPU time (ns) per process, keyed `comm[pid]`. */
export function cpuNsByProcess(procs) {
  return Object.fromEntries(procs.map((p) => [`${p.comm}[${p.pid}]`, processCpuNs(p)]));
}

function processCpuNs(p) {
  let sum = 0;
  let tids;
  try {
    tids = readdirSync(`/proc/${p.pid}/task`);
  } catch {
    return 0; // the process has ended
  }
  for (const tid of tids) {
    try {
      sum += Number(readFileSync(`/proc/${p.pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // thread ended between the listing and the read
    }
  }
  return sum;
}

/** User and system CPU time (ms, clock-tick resolution) per process, keyed `comm[pid]`: where CPU goes. */
export function userSysMsByProcess(procs) {
  const out = {};
  for (const p of procs) {
    try {
      const text = readFileSync(`/proc/${p.pid}/stat`, 'latin1');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // fields[11], fields[12]: utime, stime (fields 14 and 15 of stat), in clock ticks (100 Hz).
      out[`${p.comm}[${p.pid}]`] = { userMs: Number(f[11]) * 10, sysMs: Number(f[12]) * 10 };
    } catch {
      // ended
    }
  }
  return out;
}

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps (KiB): file-backed by file name, and
 * anonymous as [heap] (brk), [stack] and other anonymous mappings (V8's heap, thread arenas, ...).
 */
export function residentByMapping(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'latin1');
  } catch {
    return {};
  }
  const out = {};
  let name = '';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+(?:\s+(.*))?$/.exec(line);
    if (head) {
      const n = head[1] ?? '';
      name = n === '' ? '[anon]' : n.startsWith('/') ? n.split('/').pop() : n;
      continue;
    }
    if (line.startsWith('Rss:')) out[name] = (out[name] ?? 0) + parseInt(line.slice(4), 10);
  }
  return out;
}
