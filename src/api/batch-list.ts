import type { BatchRecord } from '../batch/files.js';
import { HttpProblem } from './problem.js';

/** How many batches a page of `GET /batches` holds unless `limit` says otherwise, and at most. */
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

/** Where a page starts: after the batch submitted at `submittedAt` with this id (newest first). */
export interface ListCursor {
  readonly submittedAt: string;
  readonly id: string;
}

/** Newest first; batches submitted in the same millisecond by id, so the order never changes between pages. */
export function newestFirst(a: ListCursor, b: ListCursor): number {
  if (a.submittedAt !== b.submittedAt) return a.submittedAt < b.submittedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The opaque `cursor` a page gives for the next one. */
export function encodeCursor(after: ListCursor): string {
  return Buffer.from(`${after.submittedAt}|${after.id}`, 'utf8').toString('base64url');
}

/** A `cursor` back to where it points; one that no page gave is a 400. */
export function decodeCursor(text: string): ListCursor {
  const [submittedAt = '', id = ''] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (!/^[0-9a-f]{24}$/.test(id) || Number.isNaN(Date.parse(submittedAt)))
    throw new HttpProblem(400, 'cursor is not one a page of GET /batches gave', { option: 'cursor' });
  return { submittedAt, id };
}

/** One page of records, newest first, starting after `cursor`; `next` is null on the last page. */
export function pageOf(
  records: readonly BatchRecord[],
  limit: number,
  cursor: ListCursor | null,
): { page: BatchRecord[]; next: string | null } {
  const sorted = [...records].sort(newestFirst);
  const start = cursor === null ? 0 : sorted.findIndex((r) => newestFirst(r, cursor) > 0);
  const page = start < 0 ? [] : sorted.slice(start, start + limit);
  const last = page.at(-1);
  const more = start >= 0 && start + limit < sorted.length;
  return { page, next: more && last !== undefined ? encodeCursor(last) : null };
}
