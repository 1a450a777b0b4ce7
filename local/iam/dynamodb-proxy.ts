// Own code: no maintained DynamoDB emulator evaluates IAM policies (signing: @smithy/signature-v4).
/**
 * Stands in front of DynamoDB Local (which checks neither signatures nor permissions), as
 * DynamoDB's own front end does: checks each request's SigV4 signature with the caller's secret,
 * authorizes it against the calling function's synthesized policy, and answers a denied call with
 * DynamoDB's AccessDeniedException (HTTP 400, the same JSON shape); allowed calls are forwarded
 * unchanged. Own code because no maintained DynamoDB emulator evaluates IAM policies.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseAmzDate, SIGV4_AUTHORIZATION } from '../sigv4-parts';
import { TABLES } from '../../app/model';
import { serveHttp, type LocalHttpServer } from '../http-server';
import type { Log } from '../log';
import { localTableName } from '../tables';
import { functionOfAccessKey, type AccessRequest, type IamEnforcer } from './enforcer';
import { LOCAL_ACCOUNT_ID } from './policies';

type AttributeValue = { readonly S?: string; readonly N?: string; readonly B?: string };
type Item = Readonly<Record<string, AttributeValue>>;

/** Partition key attribute of each local table, for dynamodb:LeadingKeys. */
const PARTITION_KEYS = new Map(
  TABLES.map((schema) => [localTableName(schema), schema.partitionKey.name] as const),
);

/** The IAM requests one DynamoDB API call amounts to (one per table or per transaction item). */
export function accessRequests(
  operation: string,
  body: Record<string, unknown>,
  region: string,
): AccessRequest[] {
  const tableArn = (table: string) =>
    `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${table}`;
  const leadingKeys = (
    table: string,
    items: readonly (Item | undefined)[],
  ): Record<string, string[]> => {
    const name = PARTITION_KEYS.get(table);
    const values = items
      .map((item) => (name === undefined ? undefined : item?.[name]))
      .map((value) => value?.S ?? value?.N ?? value?.B)
      .filter((value): value is string => value !== undefined);
    return values.length === 0 ? {} : { 'dynamodb:LeadingKeys': [...new Set(values)] };
  };
  const single = (action: string, input: Record<string, unknown>): AccessRequest => {
    const table = String(input.TableName);
    const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
    const key = (input.Key ?? input.Item) as Item | undefined;
    return {
      action: `dynamodb:${action}`,
      resource: `${tableArn(table)}${index}`,
      context: leadingKeys(table, [key]),
    };
  };
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const requestItems = (body.RequestItems ?? {}) as Record<string, unknown>;
      return Object.entries(requestItems).map(([table, value]) => {
        const keys =
          operation === 'BatchGetItem'
            ? ((value as { Keys?: Item[] }).Keys ?? [])
            : (value as { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]).map(
                (write) => write.PutRequest?.Item ?? write.DeleteRequest?.Key,
              );
        return {
          action: `dynamodb:${operation}`,
          resource: tableArn(table),
          context: leadingKeys(table, keys),
        };
      });
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      const items = (body.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
      return items.flatMap((item) =>
        Object.entries(item).map(([kind, input]) => single(actions[kind] ?? kind, input)),
      );
    }
    default:
      if (typeof body.TableName === 'string') return [single(operation, body)];
      return [{ action: `dynamodb:${operation}`, resource: '*' }];
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function signatureMatches(
  request: IncomingMessage,
  body: Buffer,
  match: RegExpExecArray,
  secretAccessKey: string,
): Promise<boolean> {
  const [, accessKeyId, , region, service, signedHeaderList, signature] =
    match as unknown as string[];
  const signingDate = parseAmzDate(String(request.headers['x-amz-date'] ?? ''));
  if (signingDate === undefined) return false;
  const signedHeaders = (signedHeaderList as string).split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const url = new URL(request.url ?? '/', 'http://dynamodb.local');
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId as string, secretAccessKey },
    region: region as string,
    service: service as string,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method ?? 'POST',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    }),
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  return signed.headers.authorization?.endsWith(`Signature=${signature}`) === true;
}

export interface DynamoDbProxyOptions {
  /** DynamoDB Local's endpoint. */
  readonly upstream: string;
  readonly region: string;
  readonly enforcer: IamEnforcer;
  /** Secret of each access key the proxy accepts (operator and functions). */
  readonly secrets: ReadonlyMap<string, string>;
  readonly log: Log;
}

export function startDynamoDbProxy(options: DynamoDbProxyOptions): Promise<LocalHttpServer> {
  const upstream = new URL(options.upstream);
  const reject = (response: ServerResponse, type: string, message: string) => {
    response.writeHead(400, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
    });
    response.end(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, Message: message }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const match = SIGV4_AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
    if (match === null) {
      reject(
        response,
        'MissingAuthenticationTokenException',
        'Request is missing Authentication Token',
      );
      return;
    }
    const accessKeyId = match[1] as string;
    const secret = options.secrets.get(accessKeyId);
    if (secret === undefined) {
      reject(
        response,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
      return;
    }
    if (!(await signatureMatches(request, body, match, secret))) {
      reject(
        response,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
      return;
    }
    const functionId = functionOfAccessKey(accessKeyId);
    if (functionId !== undefined) {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // DynamoDB Local answers malformed JSON with its own error.
      }
      const denial = await options.enforcer.firstDenied(
        functionId,
        accessRequests(operation, parsed, options.region),
      );
      if (denial !== undefined) {
        options.log(
          `iam: denied ${functionId} ${denial.request.action} on ${denial.request.resource}`,
        );
        reject(response, 'AccessDeniedException', denial.message);
        return;
      }
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    // DynamoDB Local down (fault injection): the caller sees the connection fail, as it would.
    forward.on('error', () => response.destroy());
    forward.end(body);
  };

  return serveHttp(0, handle, (error, response) => {
    options.log(`dynamodb proxy: ${String(error)}`);
    response.destroy();
  });
}
