import { resolve } from 'node:path';
import { readEnv, type Env } from './env.js';
import { ConfigError } from '../core/errors.js';
import { API_DEFAULTS } from './defaults.js';

/** `reachscan serve`'s settings, read once at start-up. */
export interface ApiConfig {
  /** The bearer token every request but `/healthz` must present. Never logged or printed. */
  readonly token: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Uploads in `<dataDir>/uploads/`, each batch's outputs in `<dataDir>/batches/<id>/`. */
  readonly dataDir: string;
  /** Largest accepted upload (the CSV file itself), in bytes. */
  readonly maxUploadBytes: number;
  /** Batch folders and uploads older than this many days are removed; 0 keeps them forever. */
  readonly batchRetentionDays: number;
}

/** A token shorter than this is refused: it could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * REACHSCAN_API_TOKEN (required), REACHSCAN_API_HOST, REACHSCAN_API_PORT, REACHSCAN_DATA_DIR,
 * REACHSCAN_API_MAX_UPLOAD_MB and REACHSCAN_BATCH_RETENTION_DAYS; `--host`/`--port` win over the environment. Every problem is one line.
 */
export function loadApiConfig(env: Env, flags: { host?: string; port?: string } = {}): ApiConfig {
  const problems: string[] = [];
  const token = env.REACHSCAN_API_TOKEN ?? '';
  if (token.trim() === '') {
    problems.push(
      'REACHSCAN_API_TOKEN is required: the bearer token API clients must send (e.g. openssl rand -hex 32)',
    );
  } else if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    // The value itself is never repeated, not even in part.
    problems.push(
      `REACHSCAN_API_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters with no spaces (e.g. openssl rand -hex 32)`,
    );
  }
  const host = flags.host ?? readEnv(env, 'REACHSCAN_API_HOST') ?? API_DEFAULTS.host;
  const portText = flags.port ?? readEnv(env, 'REACHSCAN_API_PORT');
  const port = portText === undefined ? API_DEFAULTS.port : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(
      `${flags.port !== undefined ? '--port' : 'REACHSCAN_API_PORT'} must be a port number 0-65535 (got "${portText}")`,
    );
  }
  const mbText = readEnv(env, 'REACHSCAN_API_MAX_UPLOAD_MB');
  const mb = mbText === undefined ? API_DEFAULTS.maxUploadMb : Number(mbText);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 1_000_000) {
    problems.push(`REACHSCAN_API_MAX_UPLOAD_MB must be a number of megabytes above 0 (got "${mbText}")`);
  }
  const retentionText = readEnv(env, 'REACHSCAN_BATCH_RETENTION_DAYS');
  const retention = retentionText === undefined ? API_DEFAULTS.batchRetentionDays : Number(retentionText);
  if (!Number.isFinite(retention) || retention < 0 || retention > 36_500) {
    problems.push(
      `REACHSCAN_BATCH_RETENTION_DAYS must be a number of days from 0 (keep forever) to 36500 (got "${retentionText}")`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    token,
    host,
    port,
    dataDir: resolve(readEnv(env, 'REACHSCAN_DATA_DIR') ?? API_DEFAULTS.dataDir),
    maxUploadBytes: Math.floor(mb * 1024 * 1024),
    batchRetentionDays: retention,
  });
}
