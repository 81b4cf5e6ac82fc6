import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';

export interface SimulatedApplication {
  readonly applicationId: string;
  /** The application's public key (PEM text or a KeyObject). */
  readonly publicKey: KeyObject | string;
  /** Purposes attached to the application. Default: `FraudPreventionAndDetection`. */
  readonly purposes?: readonly string[];
}

export interface ApplicationRecord {
  readonly applicationId: string;
  readonly publicKey: KeyObject;
  readonly purposes: ReadonlySet<string>;
}

export type JwtCheck =
  | { readonly ok: true; readonly application: ApplicationRecord; readonly jti: string }
  | { readonly ok: false; readonly reason: string };

const MAX_LIFETIME_S = 86_400;
const DEFAULT_LIFETIME_S = 900;
const CLOCK_SKEW_S = 30;

export function toApplicationRecord(app: SimulatedApplication): ApplicationRecord {
  const publicKey = typeof app.publicKey === 'string' ? createPublicKey(app.publicKey) : app.publicKey;
  return {
    applicationId: app.applicationId,
    publicKey,
    purposes: new Set(app.purposes ?? ['FraudPreventionAndDetection']),
  };
}

/**
 * Checks an application JWT as Vonage does for network APIs: RS256 signed by the application's key,
 * `application_id`, `iat` and `jti` present, not expired (15 min when `exp` is absent), lifetime at most 24 h,
 * and no `acl` claim.
 */
export async function checkApplicationJwt(
  authorization: string | undefined,
  applications: ReadonlyMap<string, ApplicationRecord>,
  nowMs: number,
): Promise<JwtCheck> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return { ok: false, reason: 'missing bearer token' };
  const token = match[1];
  let claims: ReturnType<typeof decodeJwt>;
  try {
    if (decodeProtectedHeader(token).alg !== 'RS256')
      return { ok: false, reason: 'token must be signed with RS256' };
    claims = decodeJwt(token);
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  const applicationId = claims.application_id;
  if (typeof applicationId !== 'string') return { ok: false, reason: 'application_id claim missing' };
  const application = applications.get(applicationId);
  if (!application) return { ok: false, reason: 'unknown application_id' };
  try {
    await jwtVerify(token, application.publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['iat', 'jti'],
    });
  } catch (error) {
    return { ok: false, reason: verifyFailure(error) };
  }
  const iat = claims.iat as number;
  const nowS = nowMs / 1000;
  if (iat > nowS + CLOCK_SKEW_S) return { ok: false, reason: 'token issued in the future' };
  if (claims.exp === undefined && nowS > iat + DEFAULT_LIFETIME_S + CLOCK_SKEW_S) {
    return { ok: false, reason: 'token expired' };
  }
  if (claims.exp !== undefined && claims.exp - iat > MAX_LIFETIME_S) {
    return { ok: false, reason: 'token lifetime exceeds 24 hours' };
  }
  if ('acl' in claims) return { ok: false, reason: 'acl claim is not allowed for network APIs' };
  if (typeof claims.jti !== 'string' || claims.jti === '') return { ok: false, reason: 'jti claim missing' };
  return { ok: true, application, jti: claims.jti };
}

function verifyFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'signature does not match the application key';
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.claim} claim missing or invalid`;
  return 'token could not be verified';
}
