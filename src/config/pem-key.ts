import { createPrivateKey, type KeyObject } from 'node:crypto';

/**
 * Decodes PEM text as a private key, or says in `problems` why it is not one. Never includes the text in a
 * problem: a half-pasted key is still a secret. The caller checks the key type it needs.
 */
export function decodePrivateKeyPem(pem: string, source: string, problems: string[]): KeyObject | undefined {
  if (!/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/.test(pem)) {
    problems.push(`${source} is not a PEM private key (expected a "-----BEGIN PRIVATE KEY-----" block)`);
    return undefined;
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    problems.push(`${source} is a malformed PEM private key (it could not be decoded)`);
    return undefined;
  }
}
