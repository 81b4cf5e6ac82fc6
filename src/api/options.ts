import { UsageError } from '../core/errors.js';
import { isHttpUrl } from '../config/env.js';
import type { BatchWebhook } from '../queue/job-data.js';
import type { ProviderName } from '../core/lookup-result.js';
import {
  breakerFromFlags,
  countryFlag,
  durationFlag,
  idColumnsFlag,
  labelFlag,
  sheetFlag,
  numberFlag,
} from '../config/options.js';
import type { ScanSettings } from '../batch/prepare.js';
import { SCAN_DEFAULTS } from '../config/defaults.js';
import type { HistoryOptions, StateSecret } from '../core/settings.js';
import { purposeFlag } from '../config/privacy.js';
import { PROVIDER_LIST, PROVIDER_NAMES } from '../core/lookup-result.js';
import { HttpProblem } from './problem.js';
import { budgetProblem, parseBudget, type Budget } from '../config/budget.js';
import type { PriceTable } from '../config/prices.js';

/** Batch options an upload may carry (query string or multipart fields), named as `reachscan scan`'s flags. */
export const BATCH_OPTIONS = [
  'provider',
  'column',
  'default-country',
  'stale-days',
  'max-age',
  'rate',
  'chunk-size',
  'bom',
  'error-threshold',
  'error-window',
  'id-columns',
  'label',
  'purpose',
  'sheet',
  'xlsx',
  'webhook',
  'budget',
] as const;
type BatchOption = (typeof BATCH_OPTIONS)[number];

/** What the server decides, not the client: where the history lives and how chunks retry. */
export interface ServerSettings {
  readonly history: HistoryOptions;
  readonly retryBaseMs: number;
  /** REACHSCAN_STATE_SECRET: names the history's entries (`POST /history`, `POST /forget`). */
  readonly stateSecret: StateSecret;
  /** REACHSCAN_PRICES as the server read it at start (the batches' cost, money budgets). */
  readonly prices?: PriceTable | null;
  /** REACHSCAN_WEBHOOK_URL (the default), whether a secret is set, and the base of output links. */
  readonly webhook?: ServerWebhook;
}

export interface ServerWebhook {
  readonly defaultUrl: string | null;
  readonly signed: boolean;
  /** REACHSCAN_PUBLIC_URL, else the address serve listens on. */
  readonly links: string;
}

/**
 * Turns an upload's options into a batch's settings, with the same rules and ranges as `reachscan scan`.
 * An unknown, repeated or invalid option is a 400 naming it.
 */
export function parseBatchOptions(
  given: Readonly<Record<string, string | readonly string[] | undefined>>,
  server: ServerSettings,
): ScanSettings {
  const values: Partial<Record<BatchOption, string>> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(BATCH_OPTIONS as readonly string[]).includes(name)) {
      throw new HttpProblem(400, `unknown option "${name}"; options are ${BATCH_OPTIONS.join(', ')}`, {
        option: name,
      });
    }
    if (typeof value !== 'string')
      throw new HttpProblem(400, `option "${name}" is given more than once`, { option: name });
    values[name as BatchOption] = value;
  }
  const option = <T>(name: BatchOption, read: (value: string | undefined) => T): T => {
    try {
      return read(values[name]);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      // The CLI's rules, worded for the API: `rate`, not `--rate`.
      throw new HttpProblem(400, `option ${error.message.replace(/--([\w-]+)/g, '"$1"')}`, { option: name });
    }
  };
  return {
    provider: option('provider', providerOption),
    column: option('column', (v) => (v === undefined || v.trim() === '' ? undefined : v)),
    defaultCountry: option('default-country', (v) => countryFlag(v === '' ? undefined : v)) ?? null,
    staleDays:
      option('stale-days', (v) => numberFlag(v, 'stale-days', { min: 1, max: 36_500 })) ??
      SCAN_DEFAULTS.staleDays,
    maxAgeMs: option('max-age', (v) => durationFlag(v, 'max-age')) ?? 0,
    rate:
      option('rate', (v) => numberFlag(v, 'rate', { min: 0, max: 100_000, integer: false })) ??
      SCAN_DEFAULTS.rate,
    chunkSize:
      option('chunk-size', (v) => numberFlag(v, 'chunk-size', { min: 1, max: 5_000 })) ??
      SCAN_DEFAULTS.chunkSize,
    bom: option('bom', booleanOption('bom')),
    formulaGuard: true,
    history: server.history,
    retryBaseMs: server.retryBaseMs,
    breaker: {
      threshold: option('error-threshold', (v) => breakerFromFlags({ 'error-threshold': v }).threshold),
      window: option('error-window', (v) => breakerFromFlags({ 'error-window': v }).window),
    },
    idColumns: option('id-columns', (v) => idColumnsFlag(v)),
    label: option('label', (v) => labelFlag(v)),
    purpose: option('purpose', (v) => purposeFlag(v === '' ? undefined : v)),
    sheet: option('sheet', (v) => sheetFlag(v)),
    xlsx: option('xlsx', booleanOption('xlsx')),
    ...option('budget', (v) => budgetOption(v, server.prices ?? null)),
    webhook: batchWebhook(values.webhook, server.webhook),
  };
}

/** The `webhook` option, else REACHSCAN_WEBHOOK_URL; a 400 when it is no URL or nothing could sign it. */
function batchWebhook(given: string | undefined, server: ServerWebhook | undefined): BatchWebhook | null {
  const url = given !== undefined && given.trim() !== '' ? given.trim() : (server?.defaultUrl ?? null);
  if (url === null) return null;
  if (!isHttpUrl(url))
    throw new HttpProblem(400, `option "webhook" must be an http(s) URL (got "${url}")`, {
      option: 'webhook',
    });
  if (server?.signed !== true)
    throw new HttpProblem(400, 'option "webhook": the server has no REACHSCAN_WEBHOOK_SECRET to sign with', {
      option: 'webhook',
    });
  return { url, links: server.links };
}

function providerOption(value: string | undefined): ProviderName {
  if (value === undefined || value === '') return 'identity-insights';
  const provider = PROVIDER_NAMES.find((p) => p === value);
  if (provider === undefined) throw new UsageError(`--provider must be ${PROVIDER_LIST} (got "${value}")`);
  return provider;
}

/** A flag as an option: present and empty, `true`/`1`/`yes` mean on; `false`/`0`/`no` off. */
function booleanOption(name: string) {
  return (value: string | undefined): boolean => {
    if (value === undefined) return false;
    const text = value.trim().toLowerCase();
    if (['', 'true', '1', 'yes', 'on'].includes(text)) return true;
    if (['false', '0', 'no', 'off'].includes(text)) return false;
    throw new UsageError(`--${name} must be true or false (got "${value}")`);
  };
}

/** The `budget` option (as `--budget`), with the server's prices; a money budget needs prices in its currency. */
function budgetOption(
  value: string | undefined,
  prices: PriceTable | null,
): { budget?: Budget; prices: PriceTable | null } {
  if (value === undefined || value.trim() === '') return { prices };
  const budget = parseBudget(value);
  const problem = budgetProblem(budget, prices);
  if (problem !== null) throw new UsageError(problem);
  return { budget, prices };
}

/**
 * The new budget of a resume (`POST /batches/:id/resume?budget=`, the console's "New budget"), as
 * `reachscan resume --budget`: undefined when none is given; a 400 naming the option when it is no budget.
 */
export function parseResumeBudget(text: string | undefined): Budget | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseBudget(text);
  } catch (error) {
    if (error instanceof UsageError)
      throw new HttpProblem(400, `option ${error.message.replace(/--([\w-]+)/g, '"$1"')}`, {
        option: 'budget',
      });
    throw error;
  }
}
