// Preloaded by bench/timeline.mjs (`node --import`): at exit, writes the main thread's performance
// marks (`ap diff` marks its reading, stages and writing) to marks.json in the --cpu-prof-dir, with
// the monotonic clock of the process start, the clock of the profiles' timestamps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const dirArg = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='));
if (dirArg) {
  const dir = dirArg.slice('--cpu-prof-dir='.length);
  process.once('exit', () => {
    // performance.now() counts from the process start (performance.timeOrigin).
    const originUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
    const marks = performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]);
    mkdirSync(dir, { recursive: true }); // node makes it for the profiles only after this
    writeFileSync(join(dir, 'marks.json'), `${JSON.stringify({ originUs, marks })}\n`);
  });
}
