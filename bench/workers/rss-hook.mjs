/**
 * Loaded with `node --import` when /usr/bin/time is not usable: writes the process's
 * peak RSS (kilobytes, from process.resourceUsage().maxRSS) to $QUIRE_BENCH_RSS_FILE at exit.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.QUIRE_BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    try {
      writeFileSync(target, String(process.resourceUsage().maxRSS));
    } catch {
      // best effort: the benchmark reports "-" for RSS
    }
  });
}
