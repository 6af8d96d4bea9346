// The performance targets of issues 4, 5 and 6, each evaluated on the medians of one run:
// `met` is true, false, or null when a figure is missing (a side failed or was not run).
import { ratio, round } from './lib/stats.mjs';

const r = (x) => round(x, 2);

function compare(name, value, op, limit, detail) {
  const met = Number.isFinite(value) ? (op === '<=' ? value <= limit : value >= limit) : null;
  return { name, value: r(value), op, limit, met, detail: `${Number.isFinite(value) ? r(value) : 'missing'} (target ${op} ${limit}); ${detail}` };
}

const side = (summary, s, metric) => summary[s]?.[metric];

function tandemVsSeed(name, summary, metric, op, limit, unit, paired, tandemSide = 'tandem') {
  const t = side(summary, tandemSide, metric);
  const s = side(summary, 'seed', metric);
  const p = paired?.(tandemSide, 'seed', metric);
  const out = compare(
    name,
    ratio(t, s),
    op,
    limit,
    `${tandemSide} ${r(t)} ${unit} vs seed ${r(s)} ${unit}; median of per-pair ratios ${r(p)}`,
  );
  return { ...out, pairedRatio: r(p) };
}

export const TARGETS = [
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed('warm invocations/s vs seed (issue 6)', s, 'warm.invocationsPerSec', '>=', 1.2, 'inv/s', paired),
  },
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed('spawn to first response vs seed, Node 20 (issue 6)', s, 'cold.spawnToResponseMs', '<=', 1.1, 'ms', paired),
  },
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed(
        'spawn to first response vs seed, official Node 22 (issue 6)',
        s,
        'cold.spawnToResponseMs',
        '<=',
        1.1,
        'ms',
        paired,
        'tandem-node22',
      ),
  },
  {
    evaluate: (s, summaryCalls, paired) => {
      const t = side(s, 'tandem-syspy', 'cold.spawnToResponseMs');
      const b = side(s, 'seed-syspy', 'cold.spawnToResponseMs');
      const p = paired?.('tandem-syspy', 'seed-syspy', 'cold.spawnToResponseMs');
      return {
        ...compare(
          'spawn to first response vs seed, both on Debian python3.11 (no site .pth cost; reference)',
          ratio(t, b),
          '<=',
          1.1,
          `tandem ${r(t)} ms vs seed ${r(b)} ms; median of per-pair ratios ${r(p)}`,
        ),
        pairedRatio: r(p),
      };
    },
  },
  {
    evaluate: (s, _c, paired) => tandemVsSeed('5 MiB echo latency vs seed (issue 6)', s, 'payload.5242880.medianMs', '<=', 1.0, 'ms', paired),
  },
  {
    evaluate: (s) => compare('RSS after init, MiB (issue 6)', side(s, 'tandem', 'memory.idleMiB'), '<=', 56, 'whole process tree'),
  },
  {
    evaluate: (s) =>
      compare('peak RSS during 1 MiB echo, MiB (issue 6)', side(s, 'tandem', 'memory.peakMiB'), '<=', 96, 'sampled sum over the tree'),
  },
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed('stream 1000x64 B throughput vs seed (issues 4, 6)', s, 'stream.1000x64.mibPerSec', '>=', 2, 'MiB/s', paired),
  },
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed('stream 1000x64 B time to first byte vs seed (issue 6: <= 1.2)', s, 'stream.1000x64.ttfbMs', '<=', 1.2, 'ms', paired),
  },
  {
    evaluate: (s, _c, paired) =>
      tandemVsSeed('stream 1000x64 B time to first byte vs seed (issue 4: no worse)', s, 'stream.1000x64.ttfbMs', '<=', 1.0, 'ms', paired),
  },
  {
    evaluate: (_s, calls) => {
      const t = calls?.contenders?.tandem?.medianUs;
      const p = calls?.contenders?.pythonShell?.medianUs;
      return compare(
        'Node->Python call round trip vs python-shell, 1 KiB (issue 5)',
        ratio(t, p),
        '<=',
        0.5,
        `tandem ${r(t)} us vs python-shell ${r(p)} us (direct JS ${r(calls?.contenders?.direct?.medianUs)} us)`,
      );
    },
  },
  {
    evaluate: (_s, calls) => {
      const t = calls?.contenders?.tandem?.medianUs;
      const p = calls?.contenders?.pythonShellRun?.medianUs;
      return compare(
        'Node->Python call vs PythonShell.run, one process per call (reference only)',
        ratio(t, p),
        '<=',
        0.5,
        `tandem ${r(t)} us vs PythonShell.run ${r(p)} us`,
      );
    },
  },
];
