// The performance targets of issues 4, 5, 6 (two free cores) and 10 (Lambda CPU share), each evaluated on the medians of one run:
// `met` is true, false, or null when a figure is missing (a side failed or was not run).
import { ratio, round } from './lib/stats.mjs';
import { pairedRatioOf } from './lambda.mjs';

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

// ---- issue 10: under Lambda's CPU share (bench/lambda.mjs), each evaluated on one run's medians.

/** The memory size the single-size targets are taken at. */
const AT = 512;

function lambdaVsSeed(lambda, name, metric, op, limit, unit, tandemSide = 'tandem') {
  const s = lambda.summary;
  const t = s[tandemSide]?.[metric];
  const b = s.seed?.[metric];
  const p = pairedRatioOf(lambda, tandemSide, 'seed', metric);
  return {
    ...compare(name, ratio(t, b), op, limit, `${tandemSide} ${r(t)} ${unit} vs seed ${r(b)} ${unit}; median of per-pair ratios ${r(p)}`),
    pairedRatio: r(p),
  };
}

function lambdaAbsolute(lambda, name, side, metric, op, limit, unit) {
  return compare(name, lambda.summary[side]?.[metric], op, limit, `${side}, ${unit}`);
}

export const LAMBDA_TARGETS = [
  {
    evaluate: (lambda) =>
      [512, 128]
        .filter((mb) => lambda.memories.includes(mb))
        .flatMap((mb) => [
          lambdaVsSeed(lambda, `${mb} MB: runtime CPU per invocation, first 1,000 after 100, vs seed (issue 10)`, `${mb}.early.runtimeCpuUsPerInvoke`, '<=', 0.7, 'us'),
          lambdaVsSeed(lambda, `${mb} MB: invocations/s, first 1,000 after 100, vs seed (issue 10)`, `${mb}.early.invocationsPerSec`, '>=', 1.4, 'inv/s'),
          lambdaVsSeed(lambda, `${mb} MB: p99 latency, first 1,000 after 100, vs seed (issue 10)`, `${mb}.early.p99Ms`, '<=', 1.0, 'ms'),
        ]),
  },
  {
    // The floor of the design (a C relay in Node's place): what no Node side can go below. Reference only.
    evaluate: (lambda) =>
      lambda.sides['relay-floor']
        ? [512, 128]
            .filter((mb) => lambda.memories.includes(mb))
            .map((mb) =>
              lambdaVsSeed(lambda, `${mb} MB: runtime CPU per invocation, first 1,000 after 100, relay-floor vs seed (the design's floor; reference)`, `${mb}.early.runtimeCpuUsPerInvoke`, '<=', 0.7, 'us', 'relay-floor'),
            )
        : [],
  },
  {
    // The images run the official Node 22 / 24: the same three targets for them, where measured.
    evaluate: (lambda) =>
      ['tandem-node22', 'tandem-node24']
        .filter((side) => lambda.sides[side] && Number.isFinite(lambda.summary[side]?.[`${AT}.early.runtimeCpuUsPerInvoke`]))
        .flatMap((side) => [
          lambdaVsSeed(lambda, `${AT} MB: runtime CPU per invocation, first 1,000 after 100, ${side} vs seed (issue 10)`, `${AT}.early.runtimeCpuUsPerInvoke`, '<=', 0.7, 'us', side),
          lambdaVsSeed(lambda, `${AT} MB: invocations/s, first 1,000 after 100, ${side} vs seed (issue 10)`, `${AT}.early.invocationsPerSec`, '>=', 1.4, 'inv/s', side),
          lambdaVsSeed(lambda, `${AT} MB: p99 latency, first 1,000 after 100, ${side} vs seed (issue 10)`, `${AT}.early.p99Ms`, '<=', 1.0, 'ms', side),
        ]),
  },
  {
    evaluate: (lambda) => {
      const mb = lambda.memories.includes(AT) ? AT : lambda.memories[0];
      return ['tandem', 'tandem-node22', 'tandem-node24']
        .filter((side) => lambda.sides[side])
        .flatMap((side) => [
          lambdaAbsolute(lambda, `${mb} MB: RSS of the tree after 2,000 invocations, ${side} (issue 10)`, side, `${mb}.rss.afterRssAtMiB`, '<=', 56, 'MiB'),
          lambdaAbsolute(lambda, `${mb} MB: RSS growth from after init to after 2,000 invocations, ${side} (issue 10)`, side, `${mb}.rss.growthMiB`, '<=', 1, 'MiB'),
        ]);
    },
  },
  {
    evaluate: (lambda) =>
      lambda.memories.includes(AT)
        ? [
            lambdaVsSeed(lambda, `${AT} MB: echo 1 KiB latency vs seed (issue 10)`, `${AT}.echo.1024.medianMs`, '<=', 0.8, 'ms'),
            lambdaVsSeed(lambda, `${AT} MB: echo 100 KiB latency vs seed (issue 10)`, `${AT}.echo.102400.medianMs`, '<=', 0.8, 'ms'),
            lambdaVsSeed(lambda, `${AT} MB: stream 1000x64 B time to first byte vs seed (issue 10)`, `${AT}.stream.1000x64.ttfbMs`, '<=', 1.2, 'ms'),
            lambdaVsSeed(lambda, `${AT} MB: stream 1000x64 B throughput vs seed (issue 10)`, `${AT}.stream.1000x64.mibPerSec`, '>=', 2, 'MiB/s'),
          ]
        : [],
  },
  {
    evaluate: (lambda) =>
      ['tandem-node22', 'tandem']
        .filter((side) => lambda.sides[side])
        .map((side) =>
          lambdaVsSeed(
            lambda,
            `cold start without a quota, ${side === 'tandem' ? 'Node 20' : 'official Node 22'}, vs seed (issue 10${side === 'tandem' ? ': reference' : ''})`,
            'cold.noQuota.spawnToResponseMs',
            '<=',
            1.1,
            'ms',
            side,
          ),
        ),
  },
  {
    evaluate: (_lambda, summary, paired) =>
      summary.tandem ? [tandemVsSeed('two cores: 5 MiB echo latency vs seed (issue 10)', summary, 'payload.5242880.medianMs', '<=', 0.7, 'ms', paired)] : [],
  },
  {
    evaluate: (lambda) => {
      const v = lambda.soakVerdict;
      if (!v) return [];
      return [
        compare(`memory soak: open fds over ${v.invocations} invocations (max - min)`, v.fdsMax - v.fdsMin, '<=', 0, `${v.fdsMin}..${v.fdsMax}`),
        compare(
          `memory soak: RSS growth after 2,000 invocations, MiB (over ${v.invocations})`,
          v.rssGrowthAfter2000MiB,
          '<=',
          1,
          `${r(v.rssAt2000MiB)} MiB at 2,000, at most ${r(v.rssMaxMiB)}, ${r(v.rssLastMiB)} at the end`,
        ),
      ];
    },
  },
];
