import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';

export interface ThrowawayApplication {
  readonly applicationId: string;
  /** PKCS#8 PEM, as Vonage's dashboard hands it out. Keep it out of logs. */
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** A fresh application identity for a simulator run; nothing is ever committed or reused. */
export function createThrowawayApplication(applicationId: string = randomUUID()): ThrowawayApplication {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { applicationId, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** The CAMARA operator's credentials for a simulator run: one OAuth client (client_secret_basic) and an API key. */
export interface OperatorCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly apiKey: string;
}

/**
 * Credentials derived from `material` (the application key a run already has): the same key file gives the
 * same credentials, so clients set up before a restart of the simulator are still let in. Not secrets of any
 * real operator; they only open the simulator.
 */
export function operatorCredentials(material: string): OperatorCredentials {
  const derive = (label: string) => createHmac('sha256', material).update(label).digest('base64url');
  return {
    clientId: `reachscan-sim-${derive('client-id').slice(0, 12)}`,
    clientSecret: derive('client-secret'),
    apiKey: derive('api-key'),
  };
}
