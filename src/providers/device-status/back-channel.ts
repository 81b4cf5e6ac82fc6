import type { BeforeRequest } from '../provider.js';
import type { Clock } from '../../core/clock.js';
import type { E164 } from '../../core/e164.js';
import type { ApplicationJwtSource } from '../auth/application-jwt.js';
import { cibaToken, type CibaScopes } from '../auth/ciba.js';
import type { TokenOutcome } from '../auth/token-cache.js';
import type { HttpTransport } from '../http/transport.js';

export type { TokenOutcome } from '../auth/token-cache.js';

export const SCOPES = {
  connectivity: 'openid dpv:NotApplicable#device-status:connectivity:read',
  roaming: 'openid dpv:NotApplicable#device-status:roaming:read',
} as const;
export type Scope = keyof typeof SCOPES;

/**
 * Both scopes in one flow (VONAGE_DEVICE_STATUS_COMBINED_SCOPES): Vonage writes scopes in the `#` form, which
 * allows one scope per purpose, so this is off unless asked for, and falls back on `invalid_scope`.
 */
export const DEVICE_STATUS_SCOPES: CibaScopes<Scope> = {
  combined:
    'openid dpv:NotApplicable#device-status:connectivity:read dpv:NotApplicable#device-status:roaming:read',
  each: SCOPES,
};

export interface BackChannelDeps {
  readonly apiBaseUrl: string;
  readonly jwt: ApplicationJwtSource;
  readonly transport: HttpTransport;
  readonly clock: Clock;
  /** Waits between polls; injectable so tests can move a fake clock instead. */
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * Vonage network auth for one number and scope string: CIBA at `/oauth2/bc-authorize` and `/oauth2/token`,
 * the client authenticated by the application JWT as a Bearer token.
 */
export function exchangeToken(
  deps: BackChannelDeps,
  phoneNumber: E164,
  scope: string,
  beforeRequest: BeforeRequest,
): Promise<TokenOutcome> {
  return cibaToken(
    {
      authorizeUrl: `${deps.apiBaseUrl}/oauth2/bc-authorize`,
      tokenUrl: `${deps.apiBaseUrl}/oauth2/token`,
      authenticate: async () => ({
        headers: { authorization: `Bearer ${await deps.jwt.get()}` },
        fields: {},
      }),
      transport: deps.transport,
      clock: deps.clock,
      ...(deps.wait !== undefined ? { wait: deps.wait } : {}),
    },
    phoneNumber,
    scope,
    beforeRequest,
  );
}
