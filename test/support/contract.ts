/**
 * The contract check: every API response the e2e, security and browser suites see is held to
 * openapi.yaml. A thin wrapper over Ajv's JSON Schema 2020-12 validator (OpenAPI 3.1 schemas are
 * 2020-12): the OpenAPI response-validation libraries on npm target OpenAPI 3.0 (draft-04 schemas)
 * or bring a router of their own, while the lookup needed here is ~60 lines.
 *
 * A response is declared when the document has, for the request's method and path, an operation
 * with that status, and the body matches that status's schema for its content type (no body when
 * none is declared), and the declared required headers are present and match. A request that no
 * route matches must get API Gateway's 404 (components.responses.RouteNotFound).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const DOCUMENT_ID = 'chirp:openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface MediaType {
  readonly schema?: unknown;
}
interface HeaderObject {
  readonly required?: boolean;
  readonly schema?: unknown;
  readonly $ref?: string;
}
interface ResponseObject {
  readonly $ref?: string;
  readonly content?: Record<string, MediaType>;
  readonly headers?: Record<string, HeaderObject>;
}
interface Operation {
  readonly responses: Record<string, ResponseObject>;
}
interface Document {
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly responses: Record<string, ResponseObject> };
}

export interface ObservedResponse {
  readonly method: string;
  /** The request path as sent (percent-encoded), with or without a query string. */
  readonly path: string;
  readonly status: number;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer | string;
}

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

class Contract {
  private readonly ajv: Ajv2020;
  private readonly document: Document;
  private readonly routes: { template: string; segments: string[]; literalCount: number }[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file: string) {
    this.document = parse(readFileSync(file, 'utf8')) as Document;
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // The document's own words: Ajv resolves $refs into it, but must not read them as keywords.
    this.ajv.addVocabulary(['openapi', 'info', 'servers', 'security', 'tags', 'paths']);
    this.ajv.addVocabulary(['components', 'example']);
    this.ajv.addSchema({ ...this.document, $id: DOCUMENT_ID });
    this.routes = Object.keys(this.document.paths).map((template) => {
      const segments = template.split('/').slice(1);
      return {
        template,
        segments,
        literalCount: segments.filter((s) => !s.startsWith('{')).length,
      };
    });
    // Literal routes win over parameterised ones, as in API Gateway.
    this.routes.sort((a, b) => b.literalCount - a.literalCount);
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  private resolve<T extends { $ref?: string }>(
    value: T,
  ): { object: T; pointer: string } | undefined {
    if (value.$ref === undefined) return undefined;
    const pointer = value.$ref.replace(/^#/, '');
    let target: unknown = this.document;
    for (const token of pointer.split('/').slice(1)) {
      target = (target as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return { object: target as T, pointer };
  }

  private findOperation(
    method: string,
    rawPath: string,
  ): { pointer: string; operation: Operation } | undefined {
    const segments = rawPath.split('/').slice(1);
    for (const route of this.routes) {
      if (route.segments.length !== segments.length) continue;
      const matches = route.segments.every((segment, i) => {
        const actual = segments[i] ?? '';
        return segment.startsWith('{') ? actual !== '' : segment === actual;
      });
      if (!matches) continue;
      const operation = this.document.paths[route.template]?.[method.toLowerCase()];
      if (operation === undefined) continue;
      return {
        pointer: `/paths/${escapePointer(route.template)}/${method.toLowerCase()}`,
        operation: operation as Operation,
      };
    }
    return undefined;
  }

  /** Whether a JSON request body is valid by the operation's request body schema. */
  requestBodyValidator(method: string, template: string): ValidateFunction {
    const operation = this.document.paths[template]?.[method.toLowerCase()] as
      { requestBody?: { $ref?: string } } | undefined;
    if (operation?.requestBody === undefined) {
      throw new Error(`${method} ${template} has no request body`);
    }
    const pointer =
      this.resolve(operation.requestBody)?.pointer ??
      `/paths/${escapePointer(template)}/${method.toLowerCase()}/requestBody`;
    return this.validator(`${pointer}/content/application~1json/schema`);
  }

  /** The problems with a response; empty when the document declares it. */
  check(observed: ObservedResponse): string[] {
    const rawPath = observed.path.split('?')[0] ?? '/';
    if (!METHODS.includes(observed.method.toLowerCase() as (typeof METHODS)[number])) {
      return [`unknown method ${observed.method}`];
    }
    const found = this.findOperation(observed.method, rawPath);
    let response: ResponseObject;
    let pointer: string;
    if (found === undefined) {
      response = this.document.components.responses.RouteNotFound as ResponseObject;
      pointer = '/components/responses/RouteNotFound';
      if (observed.status !== 404) {
        return [`no operation for ${observed.method} ${rawPath}, yet status ${observed.status}`];
      }
    } else {
      const declared =
        found.operation.responses[String(observed.status)] ??
        found.operation.responses[`${String(observed.status).charAt(0)}XX`] ??
        found.operation.responses.default;
      if (declared === undefined) {
        return [`status ${observed.status} is not declared for ${observed.method} ${rawPath}`];
      }
      const key =
        found.operation.responses[String(observed.status)] !== undefined
          ? String(observed.status)
          : 'default';
      response = declared;
      pointer = `${found.pointer}/responses/${key}`;
    }
    const resolved = this.resolve(response);
    if (resolved !== undefined) {
      response = resolved.object;
      pointer = resolved.pointer;
    }
    return [
      ...this.checkHeaders(response, observed),
      ...this.checkBody(response, pointer, observed),
    ];
  }

  private checkHeaders(response: ResponseObject, observed: ObservedResponse): string[] {
    const problems: string[] = [];
    const headers = new Map(
      Object.entries(observed.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const header = this.resolve(declared)?.object ?? declared;
      const value = headers.get(name.toLowerCase());
      if (value === undefined) {
        if (header.required === true) problems.push(`required header ${name} is missing`);
        continue;
      }
      if (header.schema !== undefined && !this.ajv.validate(header.schema as object, value)) {
        problems.push(`header ${name}: ${this.ajv.errorsText()}`);
      }
    }
    return problems;
  }

  private checkBody(
    response: ResponseObject,
    pointer: string,
    observed: ObservedResponse,
  ): string[] {
    const text = typeof observed.body === 'string' ? observed.body : observed.body.toString('utf8');
    const contentType = Object.entries(observed.headers).find(
      ([name]) => name.toLowerCase() === 'content-type',
    )?.[1];
    const content = response.content;
    if (content === undefined) {
      return text === '' ? [] : [`a body, where the document declares none: ${text.slice(0, 200)}`];
    }
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const declared = content[mediaType];
    if (declared === undefined) {
      return [
        `content type "${contentType ?? ''}" is not declared (${Object.keys(content).join(', ')})`,
      ];
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`the body is not JSON: ${text.slice(0, 200)}`];
    }
    const validate = this.validator(`${pointer}/content/${escapePointer(mediaType)}/schema`);
    if (validate(body)) return [];
    return [`body ${text.slice(0, 300)}: ${this.ajv.errorsText(validate.errors)}`];
  }
}

let contract: Contract | undefined;

/** The contract, loaded once per test file. */
export function apiContract(): Contract {
  contract ??= new Contract(resolve(__dirname, '..', '..', 'openapi.yaml'));
  return contract;
}

/** Throws when the document does not declare this response. */
export function expectDeclared(observed: ObservedResponse): void {
  const problems = apiContract().check(observed);
  if (problems.length > 0) {
    throw new Error(
      `Response not declared by openapi.yaml: ${observed.method} ${observed.path.slice(0, 120)} -> ${observed.status}\n  ${problems.join('\n  ')}`,
    );
  }
}

/** The fetch Response's headers as a plain object. */
export function headersOf(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}

/** The body text contractFetch checked, per response: openapi-fetch consumes the original. */
const checkedBodies = new WeakMap<Response, string>();

/** The body of a response that went through contractFetch; throws for one that did not. */
export function checkedBodyOf(response: Response): string {
  const body = checkedBodies.get(response);
  if (body === undefined) throw new Error(`${response.url}: not fetched through contractFetch`);
  return body;
}

/**
 * A fetch for API calls that checks every response against the contract before the caller sees
 * it (the body is read from a clone).
 */
export async function contractFetch(input: Request): Promise<Response> {
  const method = input.method;
  const path = new URL(input.url).pathname + new URL(input.url).search;
  const response = await fetch(input);
  const body = await response.clone().text();
  expectDeclared({
    method,
    path,
    status: response.status,
    headers: headersOf(response.headers),
    body,
  });
  checkedBodies.set(response, body);
  return response;
}
