import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERRORS, ERROR_CODES, type ErrorCode } from '@roomcast/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type TestNode } from '../helpers.js';

interface Operation {
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { properties?: { code?: { enum?: string[] } } } }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: { Error: { properties: { code: { enum: string[]; description: string } } } } };
}

/**
 * Every route of an app, from Fastify's own route tree (`printRoutes`), as `METHOD /path` with
 * `:param` written `{param}` like OpenAPI. HEAD routes are Fastify's automatic twins of GETs.
 */
function routesOf(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│   |    )*)(?:├── |└── )(\S*)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    if (match[3] === undefined) continue;
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of match[3].split(', ')) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

/** The routes that are not the API: the web app's files and the documentation page itself. */
const NOT_API = /^GET (\*|\/chat(\/?\*?)?|\/chat\*|\/docs.*)$/;

describe('the OpenAPI document at /docs/json', () => {
  let node: TestNode;
  let webRoot: string;
  let doc: Document;

  beforeAll(async () => {
    // With a web root, so the web app's routes exist and must stay out of the document.
    webRoot = mkdtempSync(join(tmpdir(), 'roomcast-web-'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>Roomcast</title>');
    node = await startNode({ webRoot });
    const response = await fetch(`${node.url}/docs/json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
  });

  afterAll(async () => {
    await node?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every route of the app, the room socket included', () => {
    const appRoutes = routesOf(node.app.printRoutes({ commonPrefix: false }));
    const documented = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(appRoutes).toContain('GET /ws/chat/{room}');
    expect(appRoutes.filter((route) => !NOT_API.test(route))).toEqual(documented);
  });

  it('describes the error body with every code of the protocol', () => {
    const { code } = doc.components.schemas.Error.properties;
    expect(code.enum).toEqual(ERROR_CODES);
    for (const name of ERROR_CODES) expect(code.description).toContain(`\`${name}\` (${ERRORS[name].status})`);
  });

  it('lists each code a route answers under its own status, and only codes of the protocol', () => {
    const listed = new Set<string>();
    for (const operations of Object.values(doc.paths)) {
      for (const operation of Object.values(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const code of response.content?.['application/json']?.schema?.properties?.code?.enum ?? []) {
            expect({ code, status }).toEqual({ code, status: String(ERRORS[code as ErrorCode].status) });
            listed.add(code);
          }
        }
      }
    }
    // The codes this app's routes answer today; every code of the protocol is in the Error schema.
    for (const code of ['invalid_room', 'invalid_body', 'invalid_query', 'unauthorized', 'login_required', 'rate_limited', 'unavailable', 'internal']) {
      expect(listed).toContain(code);
    }
  });

  it('serves the page that shows it', async () => {
    const response = await fetch(`${node.url}/docs/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger-ui');
    // Its inline styles are allowed on the page alone; scripts still come only from this origin.
    expect(response.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");
    const api = await fetch(`${node.url}/rooms`);
    expect(api.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });
});
