import { readFile } from 'node:fs/promises';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from './batch-list.js';

/** The path of the OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';

/** Paths that are not the API's (the console's pages, bull-board): left out of the document. */
const NOT_API = [/^\/admin\//, /^\/openapi\.json$/];

/**
 * The OpenAPI 3.1 document, built from the routes' own schemas, which Fastify also checks every request
 * against: the document cannot drift from what the server accepts. Registered before the routes.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const pkg = new URL('../../package.json', import.meta.url);
  const { version } = JSON.parse(await readFile(pkg, 'utf8')) as { version: string };
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'reachscan HTTP API',
        version,
        description: 'Upload a CSV file as a batch, follow it, download its outputs. See docs/http-api.md.',
      },
      components: {
        securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'REACHSCAN_API_TOKEN' } },
      },
      security: [{ token: [] }],
    },
    transform: ({ schema, url }) => ({
      schema: NOT_API.some((re) => re.test(url)) ? { ...(schema ?? {}), hide: true } : schema,
      url,
    }),
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(app.swagger()),
  );
}

/** A batch id in a path. */
export const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'the batch id' } },
} as const;

export const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: LIST_MAX_LIMIT,
      default: LIST_DEFAULT_LIMIT,
      description: 'batches per page',
    },
    cursor: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{1,200}$',
      description: 'the `next` of the previous page',
    },
  },
} as const;

export const FILE_PARAMS = {
  type: 'object',
  required: ['id', 'name'],
  properties: {
    id: ID_PARAMS.properties.id,
    name: {
      type: 'string',
      pattern:
        '^(results\\.csv|results\\.xlsx|rejects\\.csv|changes\\.csv|report\\.html|report\\.md|report\\.json|no-connectivity-[1-9][0-9]{0,4}d\\.csv)$',
      description:
        'an output: results.csv, results.xlsx, rejects.csv, no-connectivity-<N>d.csv, changes.csv, report.html, report.md, report.json',
    },
  },
} as const;
