import type { Context } from 'aws-lambda';
import { httpHandler, type HttpEvent } from '../../lambdas/platform/http';
import { logger } from '../../lambdas/platform/logger';
import { jsonLinesOf } from './stdout-lines';

function lambdaContext(requestId: string): Context {
  return {
    awsRequestId: requestId,
    functionName: 'chirp-GetTweet',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:chirp-GetTweet',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/chirp-GetTweet',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 10_000,
  } as Context;
}

const event = (requestId: string) =>
  ({
    routeKey: 'GET /v1/tweets/{tweet_id}',
    requestContext: { requestId, http: { method: 'GET' } },
  }) as unknown as HttpEvent;

/** The JSON lines the logger writes while `run` runs. */
const linesOf = jsonLinesOf;

describe('logging', () => {
  it("puts the Lambda context and the API's request id on every line of an invocation", async () => {
    const route = httpHandler(() => {
      logger.info('inside the route');
      return Promise.resolve({ statusCode: 204 });
    });
    const first = await linesOf(() => route(event('api-1'), lambdaContext('lambda-1')));
    const second = await linesOf(() => route(event('api-2'), lambdaContext('lambda-2')));
    expect(first).toEqual([
      expect.objectContaining({
        message: 'inside the route',
        function_request_id: 'lambda-1',
        function_name: 'chirp-GetTweet',
        correlation_id: 'api-1',
      }),
    ]);
    // A warm invocation carries its own ids, not the previous one's.
    expect(second).toEqual([
      expect.objectContaining({
        function_request_id: 'lambda-2',
        correlation_id: 'api-2',
      }),
    ]);
  });
});
