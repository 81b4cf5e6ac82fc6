import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { parseE164 } from '../../core/e164.js';
import { heldView } from '../../history/held-view.js';
import { StateStore } from '../../history/state-store.js';
import type { RedisClient } from '../../queue/connection.js';
import type { BatchService } from '../batches.js';
import type { DataDir } from '../data-dir.js';
import type { ServerSettings } from '../options.js';
import {
  FORGET_CONFIRM,
  forgottenNote,
  numberPage,
  type NumberChange,
  type NumberFound,
} from './number-page.js';
import { csrfChecked, html } from './reply.js';

export interface NumberRouteDeps {
  readonly redis: RedisClient;
  readonly dataDir: DataDir;
  readonly batches: BatchService;
  readonly server: ServerSettings;
}

/** How many recent batches the number page reads changes from. */
const CHANGE_BATCHES = 20;

const NOT_A_NUMBER = 'That is not a phone number in international form (+ and country code).';

/**
 * `/number`: what the history holds about a number (as `reachscan history`), and `POST /number/forget`, which
 * erases it (as `reachscan forget`). The number travels in the query string of the look-up and in the body of
 * the forget form, neither of which the server's log shows.
 */
export function registerNumber(app: FastifyInstance, deps: NumberRouteDeps): void {
  const store = new StateStore(deps.redis, deps.server.history, deps.server.stateSecret);
  const found = async (e164: string): Promise<NumberFound> => ({
    held: heldView(e164, await store.heldAbout(e164)),
    changes: await recentChanges(deps, e164),
  });
  app.get<{ Querystring: { phone?: string } }>('/number', async (request, reply) => {
    const csrf = reply.generateCsrf();
    const typed = typeof request.query.phone === 'string' ? request.query.phone.trim() : '';
    if (typed === '') return html(reply, numberPage(csrf, '', null));
    const e164 = parseE164(typed);
    if (e164 === null) return html(reply, numberPage(csrf, typed, null, { error: NOT_A_NUMBER }), 400);
    return html(reply, numberPage(csrf, typed, await found(e164)));
  });
  app.post<{ Body: Record<string, unknown> }>('/number/forget', csrfChecked(app), async (request, reply) => {
    const csrf = reply.generateCsrf();
    const typed = typeof request.body.phone === 'string' ? request.body.phone.trim() : '';
    const e164 = parseE164(typed);
    if (e164 === null) return html(reply, numberPage(csrf, '', null, { error: NOT_A_NUMBER }), 400);
    if (request.body[FORGET_CONFIRM] !== 'yes') {
      const error = 'Nothing was erased: tick "Yes, erase the history of this number" first.';
      return html(reply, numberPage(csrf, e164, await found(e164), { error }), 400);
    }
    const erased = await store.forget([e164]);
    // The count only: an erasure is worth a line in the log, the number it erased is not.
    request.log.info({ forgotten: erased }, 'console: a number was forgotten');
    return html(reply, numberPage(csrf, e164, await found(e164), { info: forgottenNote(erased) }));
  });
}

/** The number's changes in the changes.csv of the most recent batches, newest first (up to 10). */
async function recentChanges(deps: NumberRouteDeps, e164: string): Promise<NumberChange[]> {
  const { batches } = await deps.batches.list(CHANGE_BATCHES, null);
  const found: NumberChange[] = [];
  for (const batch of batches) {
    if (batch.state !== 'done') continue;
    const text = await readFile(deps.dataDir.outputPath(batch.id, 'changes.csv'), 'utf8').catch(() => '');
    if (!text.includes(e164)) continue;
    const rows = parse<Record<string, string>>(text, { columns: true, bom: true, relax_column_count: true });
    for (const row of rows) {
      if (row.phone_e164 !== e164) continue;
      found.push({
        change: row.change ?? '',
        before: row.before ?? '',
        after: row.after ?? '',
        checkedAt: row.checked_at ?? '',
        batchId: batch.id,
        file: batch.input_file,
      });
    }
  }
  return found.sort((a, b) => (a.checkedAt < b.checkedAt ? 1 : -1)).slice(0, 10);
}
