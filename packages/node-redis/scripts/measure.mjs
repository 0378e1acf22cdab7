// Shared by measure-batch.mjs and measure-overhead.mjs: the Redis URL from the command line, and CPU
// microseconds per operation at concurrency 64 over rounds of 2 s (the median of the rounds is printed).

const CONC = 64,
  MS = 2000;

/** The `redis://host:port` argument, or exit with the usage line of `script`. */
export function urlArgument(script) {
  const url = process.argv[2];
  if (!url) {
    console.error(`usage: node scripts/${script} redis://host:port (a server of your own)`);
    process.exit(2);
  }
  return url;
}

/** Records CPU µs per `op()` call, run by 64 concurrent loops for 2 s, per name. */
export function createMeter() {
  const results = {};
  return {
    async run(name, op) {
      let count = 0;
      const end = Date.now() + MS;
      const cpu0 = process.cpuUsage();
      await Promise.all(
        Array.from({ length: CONC }, async () => {
          while (Date.now() < end) {
            await op();
            count++;
          }
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      if (!results[name]) results[name] = [];
      results[name].push((cpu.user + cpu.system) / count);
    },
    /** Each name with its rounds sorted ascending. */
    sorted() {
      return Object.entries(results).map(([name, list]) => [name, [...list].sort((a, b) => a - b)]);
    },
  };
}

/** The median of an ascending list. */
export const median = (sorted) => sorted[Math.floor(sorted.length / 2)];
