// Loaded with `node --import` into a benchmarked reachscan process: when it exits, writes its peak RSS (KB) and
// the CPU time it used (user + system, µs) as "rss cpu".
import { writeFileSync } from 'node:fs';

const file = process.env.REACHSCAN_BENCH_RSS_FILE;
if (file)
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime + usage.systemCPUTime}`);
  });
