/**
 * Runs the local-stack figures in their own process: the stack's handlers build their clients at
 * module scope, so they must not share a process with the in-process figures' services.
 * Prints the rows as JSON on the last line of stdout.
 */
import { stackFigures } from '../figures/stack';

const quick = process.env.BENCH_QUICK === '1';

stackFigures({
  tweets: quick ? 50 : 200,
  tweetIntervalMs: 50,
  pollMs: 20,
  rpsSeconds: quick ? 3 : 10,
  connections: 32,
})
  .then((rows) => {
    process.stdout.write(`\n${JSON.stringify(rows)}\n`);
    process.exit(0);
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
