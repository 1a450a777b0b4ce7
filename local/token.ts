/**
 * `npm run --silent token -- <user_id> [--ttl SECONDS]`: prints a bearer token for <user_id> that
 * the local stack accepts, signed with the key in the data folder (.local-data/ or CHIRP_DATA_DIR).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { USER_ID_PATTERN } from '../app/model';
import { DEFAULT_DATA_DIR } from './defaults';
import { DEFAULT_TOKEN_TTL_SECONDS, mintToken, readSigningKey, signingKeyPath } from './jwt';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ttl: { type: 'string' } },
});

const userId = positionals[0];
if (userId === undefined || positionals.length > 1) {
  fail('usage: npm run --silent token -- <user_id> [--ttl SECONDS]');
}
if (!USER_ID_PATTERN.test(userId)) {
  fail(`invalid user id "${userId}": use 1-128 of A-Z a-z 0-9 . _ -`);
}
const ttlSeconds = values.ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) fail('--ttl must be a positive integer');

const dataDir = resolve(process.env.CHIRP_DATA_DIR ?? DEFAULT_DATA_DIR);
const key = readSigningKey(dataDir);
if (key === undefined) {
  fail(
    `No signing key at ${signingKeyPath(dataDir)}.\n` +
      'Start the local stack once with `npm start` (it creates the key), then run this again.',
  );
}
process.stdout.write(`${mintToken(key, userId, { ttlSeconds })}\n`);
