/**
 * Who may import whom in lambdas/ (`npm run lint:arch`, part of `npm run lint`). The rules say
 * the architecture of ../shared/ARCHITECTURE.md and issue 18: entry files call the wiring and
 * services; the core is cut by aggregate and takes its clients as ports; a home-timeline read
 * stays in timelines/ apart from the tweets' and follows' stores; the transcoder knows only the
 * media store. Which files may read and write items and keys is checked on the types by
 * test/unit/architecture.test.ts.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { circular: true },
    },
    {
      name: 'lambdas-stand-alone',
      comment:
        'Handler code runs on Lambda: it never imports the local runtime, CDK code or tests.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(local|lib|test|bench|soak|scripts|web|client)/' },
    },
    {
      name: 'core-takes-ports',
      comment:
        'The core gets its clients as ports from the wiring: it never builds or imports a client, ' +
        'the cache adapter, ioredis, an entry file or the transcoder.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: {
        path: [
          '^lambdas/platform/(clients|cache|s3-client|aws-sdk|elasticache-iam)[.]ts$',
          '^lambdas/wiring',
          '^lambdas/(http|events|transcoder)/',
          'node_modules/ioredis/',
        ],
      },
    },
    {
      name: 'only-the-wiring-builds-clients',
      comment: 'Clients are built once, by the wiring, from the function’s access list.',
      severity: 'error',
      from: { path: '^lambdas/', pathNot: '^lambdas/(wiring(-s3)?[.]ts|platform/)' },
      to: { path: '^lambdas/platform/(clients|s3-client|cache)[.]ts$' },
    },
    {
      name: 'entries-call-services',
      comment: 'Entry files parse, call a service and shape the response; stores are the core’s.',
      severity: 'error',
      from: { path: '^lambdas/(http|events)/' },
      to: { path: '^lambdas/core/[^/]+/store' },
    },
    {
      name: 'transcoder-knows-only-the-media-store',
      comment:
        'The media pipeline touches the media item through its store only; anything else it must ' +
        'trigger (dropping a cached tweet) is a hook the wiring passes in.',
      severity: 'error',
      from: { path: '^lambdas/transcoder/' },
      to: {
        path: '^lambdas/core/',
        pathNot: '^lambdas/core/(media/store[^/]*|ports|cache-port|errors|ids)[.]ts$',
      },
    },
    {
      name: 'timeline-read-stays-in-timelines',
      comment:
        'A home-timeline read walks timelines/ and calls only the tweets’ and follows’ stores.',
      severity: 'error',
      from: { path: '^lambdas/core/timelines/' },
      to: {
        path: '^lambdas/core/',
        pathNot:
          '^lambdas/core/(timelines/.+|tweets/store[^/]*|follows/store[^/]*|ports|cache-port|errors|ids|validation)[.]ts$',
      },
    },
    {
      name: 'aggregates-meet-at-stores',
      comment: 'One aggregate uses another through its store, never its service.',
      severity: 'error',
      from: { path: '^lambdas/core/([^/]+)/' },
      to: { path: '^lambdas/core/([^/]+)/service', pathNot: '^lambdas/core/$1/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]d[.]ts$' },
  },
};
