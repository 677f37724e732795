// Per-thread timeline of one run from its CPU profiles: which thread is busy when, labelled by the
// run's performance marks, and the stretches where a core idles while another works.
//
//   node bench/timeline.mjs DIR -- diff --science S.fits --template T.fits --out D.fits
//       runs `node --cpu-prof --cpu-prof-dir=DIR bin/ap.js ARGS...` (bench/timeline-marks.mjs
//       preloaded: DIR/marks.json), then prints the timeline
//   node bench/timeline.mjs DIR [--bin MS] [--idle FRACTION]
//       prints the timeline of the profiles already in DIR
//
// Printed: per bin (default 100 ms) of time since the process start, each thread's busy share and
// the repository function it spends it in (the innermost frame of the repository's own code, so
// time inside a library or V8 counts to its caller); per span between marks (each mark ends its
// span), each thread's busy seconds and what it runs; the stretches of at least two bins where a
// core idles: all threads together busy at most CORES - 1 + FRACTION cores (--cores, default the
// machine's; --idle FRACTION, default 0.3), with what runs meanwhile. The profiles' timestamps are
// one monotonic clock for every thread; a sample counts for the interval before it. A profiler
// samples by the clock, not the CPU: on a loaded machine a thread waiting for a core counts busy.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  process.stderr.write('usage: node bench/timeline.mjs DIR [--bin MS] [--idle F] [-- AP ARGS]\n');
  process.exit(2);
}
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i > 0 && i < args.indexOf('--') >>> 0 ? Number(args[i + 1]) : fallback;
};
const binMs = option('--bin', 100);
const idleShare = option('--idle', 0.3);
const cores = option('--cores', availableParallelism());

const dash = args.indexOf('--');
if (dash > 0) {
  const run = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--import',
      join(root, 'bench', 'timeline-marks.mjs'),
      join(root, 'bin', 'ap.js'),
      ...args.slice(dash + 1),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (run.status !== 0) process.exit(run.status ?? 1);
}

/** A profile's samples as [time µs, busy, repository frame]. */
function samplesOf(profile) {
  const parent = new Map();
  const byId = new Map();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const frameCache = new Map();
  const frameOf = (id) => {
    if (frameCache.has(id)) return frameCache.get(id);
    let name = byId.get(id).callFrame.functionName || '(anonymous)';
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at).callFrame;
      if (url.includes(root) && !url.includes('/node_modules/')) {
        name = `${functionName || '(anonymous)'} ${url.slice(url.lastIndexOf('/') + 1)}`;
        break;
      }
    }
    frameCache.set(id, name);
    return name;
  };
  const out = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const fn = byId.get(profile.samples[i]).callFrame.functionName;
    out.push([t, fn !== '(idle)', frameOf(profile.samples[i])]);
  }
  return out;
}

const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const threads = files
  .map((f) => {
    const id = Number(f.split('.')[4]); // CPU.DATE.TIME.PID.THREAD.SEQ.cpuprofile
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    return { name: id === 0 ? 'main' : `w${id}`, id, samples: samplesOf(profile), profile };
  })
  .sort((a, b) => a.id - b.id);
const marksFile = join(dir, 'marks.json');
const { originUs, marks } = existsSync(marksFile)
  ? JSON.parse(readFileSync(marksFile, 'utf8'))
  : { originUs: Math.min(...threads.map((t) => t.profile.startTime)), marks: [] };
const endUs = Math.max(...threads.map((t) => t.profile.endTime));
const nBins = Math.ceil((endUs - originUs) / 1000 / binMs);

// Per thread and bin: busy µs and µs per frame.
for (const th of threads) {
  th.busy = new Float64Array(nBins);
  th.frames = Array.from({ length: nBins }, () => new Map());
  let prev = th.profile.startTime;
  for (const [t, busy, frame] of th.samples) {
    const dt = t - prev;
    prev = t;
    if (!busy) continue;
    const b = Math.min(nBins - 1, Math.floor((t - originUs) / 1000 / binMs));
    if (b < 0) continue;
    th.busy[b] += dt;
    th.frames[b].set(frame, (th.frames[b].get(frame) ?? 0) + dt);
  }
}
const binUs = binMs * 1000;
const pct = (v) => `${Math.round(Math.min(1, v) * 100)}`.padStart(3) + '%';
const sec = (us) => (us / 1e6).toFixed(2);
const top = (maps, n) => {
  const sum = new Map();
  for (const m of maps) for (const [k, v] of m) sum.set(k, (sum.get(k) ?? 0) + v);
  return [...sum]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${sec(v)}`)
    .join(', ');
};
// The mark a bin's start falls after (ap diff marks the end of each stage: the span before it).
const spanOf = (b) => {
  const ms = b * binMs;
  const next = marks.find(([, at]) => at > ms);
  return next ? next[0] : '(after the last mark)';
};

const lines = [];
lines.push(
  `bins of ${binMs} ms from the process start; busy share per thread; marks end their span`,
);
lines.push(
  `${'t s'.padEnd(6)} ${'span'.padEnd(26)} ${threads.map((t) => t.name.padStart(5)).join('')}`,
);
for (let b = 0; b < nBins; b++) {
  const cells = threads.map((th) => pct(th.busy[b] / binUs).padStart(5)).join('');
  const what = threads
    .filter((th) => th.busy[b] > 0.05 * binUs)
    .map((th) => `${th.name}: ${top([th.frames[b]], 1)}`)
    .join(' | ');
  lines.push(
    `${((b * binMs) / 1000).toFixed(1).padEnd(6)} ${spanOf(b).padEnd(26)} ${cells}  ${what}`,
  );
}

lines.push(
  '',
  'spans between marks (ms since the process start): busy seconds per thread, what runs',
);
let from = 0;
for (const [name, at] of [...marks, ['(end)', (endUs - originUs) / 1000]]) {
  lines.push(`${name.padEnd(26)} ${from.toFixed(0).padStart(6)}-${at.toFixed(0).padStart(6)}`);
  for (const th of threads) {
    let us = 0;
    const frames = new Map();
    let prev = th.profile.startTime;
    for (const [t, isBusy, frame] of th.samples) {
      if (isBusy && t >= originUs + from * 1000 && t < originUs + at * 1000) {
        us += t - prev;
        frames.set(frame, (frames.get(frame) ?? 0) + t - prev);
      }
      prev = t;
    }
    if (us > 0.01 * 1e6) lines.push(`    ${th.name.padEnd(5)} ${sec(us)}  ${top([frames], 4)}`);
  }
  from = at;
}

// A core idles where the threads' busy shares add up to at most cores - 1 + FRACTION (on a
// process whose threads outnumber the cores, e.g. module loaders' hook threads).
lines.push(
  '',
  `stretches of >= 2 bins where a core idles (all threads busy <= ${cores - 1 + idleShare} cores): what runs`,
);
let idleTotal = 0;
const sumAt = (b) => threads.reduce((s, th) => s + th.busy[b], 0) / binUs;
for (let b = 0; b < nBins;) {
  if (sumAt(b) > cores - 1 + idleShare) {
    b++;
    continue;
  }
  let e = b;
  while (e < nBins && sumAt(e) <= cores - 1 + idleShare) e++;
  if (e - b >= 2) {
    idleTotal += (e - b) * binMs;
    const what = threads
      .map((th) => [th, th.busy.slice(b, e).reduce((a, v) => a + v, 0)])
      .filter(([, us]) => us > 0.1 * (e - b) * binUs)
      .map(([th, us]) => `${th.name} ${sec(us)} s: ${top(th.frames.slice(b, e), 3)}`)
      .join(' | ');
    lines.push(
      `${((b * binMs) / 1000).toFixed(1)}-${((e * binMs) / 1000).toFixed(1)} s (${spanOf(b)}): ${what || 'nothing'}`,
    );
  }
  b = e;
}
const wallUs = endUs - originUs;
const cpuUs = threads.reduce((s, th) => s + th.busy.reduce((a, v) => a + v, 0), 0);
lines.push(
  '',
  `process start to last sample ${sec(wallUs)} s; busy ${threads.map((th) => `${th.name} ${sec(th.busy.reduce((a, v) => a + v, 0))}`).join(', ')} s; ${Math.round((100 * cpuUs) / wallUs)}% of one core; core idle in stretches ${(idleTotal / 1000).toFixed(1)} s`,
);
process.stdout.write(`${lines.join('\n')}\n`);
