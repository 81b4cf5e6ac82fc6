import type { ScanSettings } from '../batch/prepare.js';
import { SCAN_DEFAULTS } from '../config/defaults.js';
import { historyOptions, retryBaseFromEnv } from '../config/settings.js';
import { purposeFlag } from '../config/privacy.js';
import { spendSettings } from '../config/budget.js';
import type { Env } from '../config/env.js';
import { batchWebhookUrl, webhookSettings } from '../config/webhooks.js';
import type { BatchWebhook } from '../queue/job-data.js';
import { UsageError } from '../core/errors.js';
import {
  breakerFromFlags,
  countryFlag,
  durationFlag,
  idColumnsFlag,
  labelFlag,
  numberFlag,
  providerFlag,
  sheetFlag,
} from '../config/options.js';

/** The flags of every command that scans files (`scan`, `watch`): they mean the same everywhere. */
export const SCAN_FLAGS = {
  provider: { type: 'string', default: 'identity-insights' },
  column: { type: 'string' },
  'default-country': { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  'chunk-size': { type: 'string' },
  'stale-days': { type: 'string' },
  'max-age': { type: 'string' },
  simulate: { type: 'boolean', default: false },
  'no-worker': { type: 'boolean', default: false },
  bom: { type: 'boolean', default: false },
  'no-formula-guard': { type: 'boolean', default: false },
  'error-threshold': { type: 'string' },
  'error-window': { type: 'string' },
  'id-columns': { type: 'string' },
  label: { type: 'string' },
  purpose: { type: 'string' },
  sheet: { type: 'string' },
  xlsx: { type: 'boolean', default: false },
  webhook: { type: 'string' },
  budget: { type: 'string' },
} as const;

export interface ScanFlagValues {
  readonly provider?: string | undefined;
  readonly column?: string | undefined;
  readonly 'default-country'?: string | undefined;
  readonly concurrency?: string | undefined;
  readonly rate?: string | undefined;
  readonly 'chunk-size'?: string | undefined;
  readonly 'stale-days'?: string | undefined;
  readonly 'max-age'?: string | undefined;
  readonly simulate?: boolean | undefined;
  readonly 'no-worker'?: boolean | undefined;
  readonly bom?: boolean | undefined;
  readonly 'no-formula-guard'?: boolean | undefined;
  readonly 'error-threshold'?: string | undefined;
  readonly 'error-window'?: string | undefined;
  readonly 'id-columns'?: string | undefined;
  readonly label?: string | undefined;
  readonly purpose?: string | undefined;
  readonly sheet?: string | undefined;
  readonly xlsx?: boolean | undefined;
  readonly webhook?: string | undefined;
  readonly budget?: string | undefined;
}

/** The in-process worker's lookups in flight; refuses flag combinations that cannot mean anything. */
export function inProcessConcurrency(values: ScanFlagValues): number {
  if (values['no-worker'] === true && values.concurrency !== undefined) {
    throw new UsageError(
      '--concurrency sets the in-process worker; with --no-worker give it to reachscan worker',
    );
  }
  if (values.simulate === true && values['no-worker'] === true) {
    throw new UsageError('--simulate runs its own worker; it cannot be combined with --no-worker');
  }
  return numberFlag(values.concurrency, 'concurrency', { min: 1, max: 1024 }) ?? SCAN_DEFAULTS.concurrency;
}

/** The batch settings the flags (and the environment's history and retry settings) ask for. */
export function scanSettingsFromFlags(values: ScanFlagValues, env: Env): ScanSettings {
  return {
    provider: providerFlag(values.provider ?? 'identity-insights'),
    column: values.column,
    defaultCountry: countryFlag(values['default-country']) ?? null,
    chunkSize:
      numberFlag(values['chunk-size'], 'chunk-size', { min: 1, max: 5_000 }) ?? SCAN_DEFAULTS.chunkSize,
    staleDays:
      numberFlag(values['stale-days'], 'stale-days', { min: 1, max: 36_500 }) ?? SCAN_DEFAULTS.staleDays,
    rate: numberFlag(values.rate, 'rate', { min: 0, max: 100_000, integer: false }) ?? SCAN_DEFAULTS.rate,
    maxAgeMs: durationFlag(values['max-age'], 'max-age') ?? 0,
    formulaGuard: values['no-formula-guard'] !== true,
    bom: values.bom === true,
    history: historyOptions(env, values.simulate === true),
    retryBaseMs: retryBaseFromEnv(env),
    breaker: breakerFromFlags(values),
    idColumns: idColumnsFlag(values['id-columns']),
    label: labelFlag(values.label),
    purpose: purposeFlag(values.purpose),
    sheet: sheetFlag(values.sheet),
    xlsx: values.xlsx === true,
    webhook: webhookFromFlag(values.webhook, env),
    ...spendSettings(values.budget, env),
  };
}

/** `--webhook URL`, else REACHSCAN_WEBHOOK_URL; a CLI batch's outputs are local files, so no links. */
function webhookFromFlag(given: string | undefined, env: Env): BatchWebhook | null {
  const url = batchWebhookUrl(
    given,
    given !== undefined ? '--webhook' : 'REACHSCAN_WEBHOOK_URL',
    webhookSettings(env),
  );
  return url === null ? null : { url, links: null };
}
