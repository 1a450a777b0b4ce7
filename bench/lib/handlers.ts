/**
 * Loads the real handler modules in this process (after the services' environment is in
 * process.env, since clients are built at module scope) and builds the events Lambda would pass:
 * payload format 2.0 through the local API emulator's own builder, and DynamoDB stream records.
 */
import type {
  APIGatewayProxyStructuredResultV2,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { FANOUT_FUNCTION, ROUTES } from '../../app/model';
import { buildEvent, type HttpEvent } from '../../local/api-gateway';

export type HttpHandler = (event: HttpEvent) => Promise<APIGatewayProxyStructuredResultV2>;
export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

const REPO = '../../';

/** Imports a route's entry file by the app model's route id (e.g. 'GetTweet'). */
export async function routeHandler(id: string): Promise<HttpHandler> {
  const route = ROUTES.find((r) => r.id === id);
  if (route === undefined) throw new Error(`no route ${id} in the app model`);
  const loaded = (await import(REPO + route.entry.replace(/\.ts$/, ''))) as { handler?: unknown };
  if (typeof loaded.handler !== 'function') throw new Error(`${route.entry} exports no handler`);
  return loaded.handler as HttpHandler;
}

export async function fanoutHandler(): Promise<StreamHandler> {
  const loaded = (await import(REPO + FANOUT_FUNCTION.entry.replace(/\.ts$/, ''))) as {
    handler?: unknown;
  };
  if (typeof loaded.handler !== 'function') throw new Error('the fanout exports no handler');
  return loaded.handler as StreamHandler;
}

export interface RequestSpec {
  readonly routeId: string;
  readonly user: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A payload 2.0 event for a route, as the HTTP API sends it after its JWT authorizer. */
export function httpEvent(spec: RequestSpec): HttpEvent {
  const route = ROUTES.find((r) => r.id === spec.routeId);
  if (route === undefined) throw new Error(`no route ${spec.routeId}`);
  const rawPath = route.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(spec.pathParameters?.[name] ?? ''),
  );
  const rawQueryString = new URLSearchParams(spec.query ?? {}).toString();
  const body =
    spec.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(spec.body), 'utf8');
  const headers: Record<string, string> = {
    host: '127.0.0.1',
    authorization: 'Bearer bench',
    'user-agent': 'chirp-bench',
    ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...spec.headers,
  };
  const now = new Date();
  return buildEvent({
    method: route.method,
    rawPath,
    rawQueryString,
    rawHeaders: Object.entries(headers).flat(),
    body,
    sourceIp: '127.0.0.1',
    httpVersion: '1.1',
    routeKey: `${route.method} ${route.path}`,
    pathParameters: spec.pathParameters,
    caller: {
      claims: {
        sub: spec.user,
        iss: 'https://auth.chirp.local/',
        aud: 'chirp-api',
        exp: String(Math.floor(now.getTime() / 1000) + 3600),
      },
      scopes: [],
    },
    requestId: `bench-${now.getTime()}`,
    now,
    serverPort: 443,
  });
}

let sequence = 0;

/** A DynamoDB stream INSERT record of the tweets table, in the shape the event source mapping sends. */
export function tweetInsertRecord(
  author: string,
  tweetId: string,
  region: string,
  text = 'bench',
): DynamoDBRecord {
  sequence += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    eventID: `bench-${sequence}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: now,
      Keys: { user_id: { S: author }, tweet_id: { S: tweetId } },
      NewImage: {
        user_id: { S: author },
        tweet_id: { S: tweetId },
        text: { S: text },
        created_at: { S: new Date().toISOString() },
        media_ids: { L: [] },
      },
      SequenceNumber: String(100000000000000000000 + sequence),
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: `arn:aws:dynamodb:${region}:000000000000:table/Tweets/stream/bench`,
  };
}

/** Asserts a handler's response status, so a broken path can never pass as a fast one. */
export function expectStatus(
  result: APIGatewayProxyStructuredResultV2,
  status: number,
  what: string,
): APIGatewayProxyStructuredResultV2 {
  if (result.statusCode !== status) {
    throw new Error(`${what}: expected ${status}, got ${result.statusCode}: ${result.body ?? ''}`);
  }
  return result;
}
