import { generateKeyPairSync, randomUUID } from 'node:crypto';

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
