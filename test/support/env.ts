/**
 * Test-side access to the local stack the global setup started: its handler environment, tokens
 * for any user, and fault injection (Redis, DynamoDB Local).
 */
import {
  mintToken as mintWithKey,
  readSigningKey,
  type MintOptions,
  type SigningKey,
} from '../../local/jwt';
import { STACK_ENV } from './stack-info';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the tests through Jest so test/support/global-setup.ts starts the local stack`,
    );
  }
  return value;
}

/** The handler environment of the running stack (table/bucket names, endpoints, credentials). */
export function serviceEnv(): Readonly<Record<string, string>> {
  return JSON.parse(required(STACK_ENV.serviceEnv)) as Record<string, string>;
}

/**
 * Puts the stack's handler environment into process.env, for tests that import handler or domain
 * modules directly. Call it before importing them: clients.ts reads the environment at load.
 */
export function applyServiceEnv(): void {
  Object.assign(process.env, serviceEnv());
}

export const apiUrl = (): string => required(STACK_ENV.apiUrl);
export const cdnUrl = (): string => required(STACK_ENV.cdnUrl);
export const appUrl = (): string => required(STACK_ENV.appUrl);

let signingKey: SigningKey | undefined;

/** The stack's signing key (tests forge bad tokens with it, too). */
export function stackSigningKey(): SigningKey {
  if (signingKey === undefined) {
    const keyDir = required(STACK_ENV.keyDir);
    signingKey = readSigningKey(keyDir);
    if (signingKey === undefined) throw new Error(`No signing key in ${keyDir}`);
  }
  return signingKey;
}

/** A bearer token the stack's authorizer accepts, for `sub` = userId. */
export function mintToken(userId: string, options: MintOptions = {}): string {
  return mintWithKey(stackSigningKey(), userId, options);
}

export interface ServiceStatus {
  readonly managed: boolean;
  readonly running?: boolean;
  readonly pid?: number | null;
  readonly took_ms?: number;
}

async function control(path: string, method: 'GET' | 'POST' = 'POST'): Promise<ServiceStatus> {
  const response = await fetch(`${required(STACK_ENV.controlUrl)}${path}`, { method });
  const body = (await response.json()) as ServiceStatus & { message?: string };
  if (!response.ok) throw new Error(`control ${path}: ${response.status} ${body.message ?? ''}`);
  return body;
}

/** Kills redis-server (SIGKILL): every cached key and timeline is lost. */
export const stopRedis = (): Promise<ServiceStatus> => control('/redis/stop');
/** Starts redis-server again on the same port, empty. */
export const startRedis = (): Promise<ServiceStatus> => control('/redis/start');
/** Kill, then start empty. */
export const restartRedis = (): Promise<ServiceStatus> => control('/redis/restart');
/** Stops DynamoDB Local (its data is on disk in the stack's temp dir, so it survives). */
export const stopDynamo = (): Promise<ServiceStatus> => control('/dynamodb/stop');
export const startDynamo = (): Promise<ServiceStatus> => control('/dynamodb/start');
export const restartDynamo = (): Promise<ServiceStatus> => control('/dynamodb/restart');

export async function stackStatus(): Promise<{ redis: ServiceStatus; dynamodb: ServiceStatus }> {
  const response = await fetch(`${required(STACK_ENV.controlUrl)}/status`);
  return (await response.json()) as { redis: ServiceStatus; dynamodb: ServiceStatus };
}

/** Invokes a function of the stack (the scheduled ones) now, as its schedule would. */
export async function invokeFunction(functionId: string, event: unknown = {}): Promise<unknown> {
  const response = await fetch(`${required(STACK_ENV.controlUrl)}/functions/${functionId}/invoke`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (!response.ok)
    throw new Error(`${functionId} failed: ${body.error?.message ?? response.status}`);
  return body.result;
}
