// Loaded with `node --import` into a benchmarked reachscan process: writes its peak RSS (KB) when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.REACHSCAN_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
