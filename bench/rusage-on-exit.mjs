// Loaded with `node --import` by the benchmarks that time a command as a user runs it: on exit,
// one JSON line on stderr with the process's CPU time (all threads) and peak resident memory.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(
    `${JSON.stringify({ rusage: { userS: u.userCPUTime / 1e6, systemS: u.systemCPUTime / 1e6, maxRssMb: Math.round(u.maxRSS / 1024) } })}\n`,
  );
});
