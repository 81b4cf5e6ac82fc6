import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Html } from './html.js';

/** A page: HTML, never cached (it shows a batch's or a number's state at the time). */
export function html(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** After a form's post: the browser opens `to` with a GET. */
export function seeOther(reply: FastifyReply, to: string): FastifyReply {
  return reply.code(303).header('location', to).send();
}

/** The route option that checks a form's CSRF token before its handler runs (after the body is read). */
export function csrfChecked(app: FastifyInstance) {
  return {
    preHandler: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) =>
      app.csrfProtection(request, reply, done),
  };
}
