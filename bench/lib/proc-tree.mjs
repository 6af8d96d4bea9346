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

/** Resident set sizes (KiB) of the given processes, now. */
export function rssKiB(procs) {
  return procs.map((p) => ({ ...p, exe: exeOf(p.pid), rssKiB: statusKiB(p.pid, 'VmRSS') }));
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
