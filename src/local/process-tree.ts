// Resident memory of a runtime's whole process tree (the bootstrap, Node, the Python workers and anything
// they start), read from /proc, and a sampler that keeps the peak while an invocation runs: the local
// `Max Memory Used` of the REPORT line. On systems without /proc the figures are 0.
import { readFileSync, readdirSync } from 'node:fs';

const PAGE_SIZE = 4096;

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    } catch {
      // task gone
    }
  }
  return out;
}

function rssBytes(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(fields[1]) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

/** Sum of the resident set sizes of `rootPid` and all its descendants, in bytes. */
export function treeRssBytes(rootPid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += rssBytes(pid);
    stack.push(...childrenOf(pid));
  }
  return total;
}

/** Samples a process tree's RSS on an interval and keeps the peak. */
export class PeakMemorySampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rootPid: number,
    private readonly intervalMs = 20,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    this.peak = Math.max(this.peak, treeRssBytes(this.rootPid));
  }

  /** Stops sampling (after a last sample) and returns the peak in whole MB, as Lambda reports it. */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return Math.round(this.peak / (1024 * 1024));
  }
}
