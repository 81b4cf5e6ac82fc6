import type { Clock } from '../../core/clock.js';
import { maskPhone, type E164 } from '../../core/e164.js';
import type { Logger } from '../../logging/logger.js';
import type { ApplicationJwtSource } from '../auth/application-jwt.js';
import type { HttpTransport } from '../http/transport.js';
import type { ReachabilityProvider } from '../provider.js';
import { mapIdentityInsightsResponse } from './response.js';

export interface IdentityInsightsDeps {
  /** e.g. `https://api-eu.vonage.com`, no trailing slash. */
  readonly apiBaseUrl: string;
  /** `/identity-insights/v1/requests` (current) or `/v0.1/identity-insights` (older guides). */
  readonly path: string;
  readonly purpose: string;
  readonly jwt: ApplicationJwtSource;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** One POST per number asking for both `reachability` and `roaming`. */
export function createIdentityInsightsProvider(deps: IdentityInsightsDeps): ReachabilityProvider {
  const url = deps.apiBaseUrl + deps.path;
  const log = deps.logger.child({ provider: 'identity-insights' });

  return {
    name: 'identity-insights',
    async lookup(phoneNumber: E164, options = {}) {
      const token = await deps.jwt.get();
      const body = JSON.stringify({
        phone_number: phoneNumber,
        purpose: deps.purpose,
        insights: { reachability: {}, roaming: {} },
      });
      const window = await options.beforeRequest?.('lookup');
      const started = deps.clock();
      const result = await deps.transport.post(url, {
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        window,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const elapsedMs = deps.clock() - started;
      if (!result.ok) {
        log.debug({ phone: maskPhone(phoneNumber), failure: result.failure, elapsedMs }, 'lookup failed');
        return { kind: 'failed', provider: 'identity-insights', phoneNumber, failure: result.failure };
      }
      const outcome = mapIdentityInsightsResponse(phoneNumber, result.response, deps.clock());
      log.debug(
        {
          phone: maskPhone(phoneNumber),
          httpStatus: result.response.status,
          elapsedMs,
          ...(outcome.kind === 'answered'
            ? {
                requestId: outcome.requestId,
                reachability: outcome.reachability.status.code,
                roaming: outcome.roaming.status.code,
              }
            : { failure: outcome.failure }),
        },
        'lookup answered',
      );
      return outcome;
    },
    servedBySimulator: () => deps.transport.servedBySimulator?.() === true,
    close: () => deps.transport.close(),
  };
}
