/**
 * One transcoder invocation in a process of its own, so the soak can SIGKILL it mid-way like a
 * Lambda that ran out of memory or time. The S3 event (AWS shape) comes base64-encoded in argv[2];
 * the handler environment is inherited from the soak process.
 */
import { handler } from '../lambdas/events/transcoder';

const encoded = process.argv[2];
if (encoded === undefined) {
  process.stderr.write('usage: transcoder-child <base64 S3 event>\n');
  process.exit(2);
}
const event: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
handler(event, { getRemainingTimeInMillis: () => 300_000 }).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
