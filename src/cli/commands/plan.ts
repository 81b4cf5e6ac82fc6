import { basename, resolve } from 'node:path';
import { systemClock } from '../../core/clock.js';
import type { CountryCode } from '../../core/e164.js';
import type { ProviderName } from '../../core/lookup-result.js';
import { UsageError } from '../../core/errors.js';
import { StateStore } from '../../history/state-store.js';
import { choosePhoneColumn } from '../../input/phone-column.js';
import { sniffInput } from '../../input/sniff.js';
import { buildPlan, formatPlan } from '../../batch/plan.js';
import { createRedis, redisAnswers } from '../../queue/connection.js';
import { parseCommandArgs } from '../args.js';
import { countryFlag, durationFlag, numberFlag, providerFlag } from '../../config/options.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { PLAN_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { historyOptions, redisUrlFromEnv } from '../../config/settings.js';
import { camaraRequestsPerNumber } from '../../config/camara.js';
import { stateSecretFromEnv } from '../../config/privacy.js';

export interface PlanRequest {
  readonly file: string;
  readonly provider: ProviderName;
  readonly column: string | undefined;
  readonly defaultCountry: CountryCode | undefined;
  readonly maxAgeMs: number;
  readonly rate: number;
  readonly simulate: boolean;
  readonly json: boolean;
}

/** `reachscan plan <file>`: what a scan would cost, before anything is spent. */
export async function runPlan(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(argv, {
    provider: { type: 'string', default: 'identity-insights' },
    column: { type: 'string' },
    'default-country': { type: 'string' },
    'max-age': { type: 'string' },
    rate: { type: 'string' },
    simulate: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (values.help) {
    io.stdout.write(PLAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError('plan needs exactly one input file: reachscan plan <file>');
  return printPlan(
    {
      file: positionals[0] as string,
      provider: providerFlag(values.provider),
      column: values.column,
      defaultCountry: countryFlag(values['default-country']),
      maxAgeMs: durationFlag(values['max-age'], 'max-age') ?? 0,
      rate: numberFlag(values.rate, 'rate', { min: 0, max: 100_000, integer: false }) ?? 0,
      simulate: values.simulate,
      json: values.json,
    },
    io,
  );
}

/** Shared by `plan` and `scan --dry-run`. Reads the history when Redis answers; never starts or queues anything. */
export async function printPlan(request: PlanRequest, io: CliIo): Promise<ExitCode> {
  const inputPath = resolve(request.file);
  const shape = await sniffInput(inputPath, request.file);
  const phoneColumn = choosePhoneColumn(request.file, shape.headers, request.column);
  const url = redisUrlFromEnv(io.env).url;
  const useHistory = request.maxAgeMs > 0 && (await redisAnswers(url));
  const redis = useHistory ? createRedis(url, 'client') : null;
  try {
    const plan = await buildPlan({
      inputPath,
      displayName: basename(request.file),
      shape,
      phoneColumn,
      ...(request.defaultCountry !== undefined ? { defaultCountry: request.defaultCountry } : {}),
      provider: request.provider,
      maxAgeMs: request.maxAgeMs,
      ratePerSecond: request.rate,
      ...(request.provider === 'camara' ? { requestsPerNumber: camaraRequestsPerNumber(io.env) } : {}),
      store:
        redis === null
          ? null
          : new StateStore(redis, historyOptions(io.env, request.simulate), stateSecretFromEnv(io.env)),
      nowMs: (io.clock ?? systemClock)(),
    });
    io.stdout.write(request.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    return EXIT.ok;
  } finally {
    await redis?.quit().catch(() => undefined);
  }
}
