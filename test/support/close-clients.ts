/**
 * After each test file: closes the module-scope clients of lambdas/platform (the cache's ioredis
 * Cluster, the S3 client) if the file loaded them, directly or through a handler. A Cluster left
 * open reconnects for ever once the stack's Redis is stopped, and keeps Jest from exiting.
 * Jest's require.cache is the file's live module registry, so a file that never loaded them does
 * not build them here.
 */
import type * as Clients from '../../lambdas/platform/clients';
import type * as S3Client from '../../lambdas/platform/s3-client';

function loaded<T>(path: string): T | undefined {
  return require.cache[require.resolve(path)]?.exports as T | undefined;
}

afterAll(async () => {
  const clients = loaded<typeof Clients>('../../lambdas/platform/clients');
  if (clients !== undefined) {
    // Functions without cache access get a stand-in that throws on use (not a Cluster).
    const { Cluster } = await import('ioredis');
    if (clients.redis instanceof Cluster) clients.redis.disconnect();
  }
  loaded<typeof S3Client>('../../lambdas/platform/s3-client')?.s3.destroy();
});
