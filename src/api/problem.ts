import type { FastifyReply } from 'fastify';

/** RFC 9457 problem details: what every error answer of the API looks like. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The option or field at fault, for 400s. */
  readonly option?: string;
  readonly [extra: string]: unknown;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error the API answers as it is: a status and one line saying why. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export function problemBody(status: number, detail: string, extra: Readonly<Record<string, unknown>> = {}) {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...extra } as ProblemBody;
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  detail: string,
  extra: Readonly<Record<string, unknown>> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(problemBody(status, detail, extra)));
}
