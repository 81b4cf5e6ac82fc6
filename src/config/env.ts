/** The environment as configuration sees it; `process.env` in production, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Reads a variable, treating empty and whitespace-only values as unset. */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  return value.trim();
}

/** Parses a non-negative integer setting; pushes a problem naming the setting when it is not one. */
export function readInteger(
  env: Env,
  name: string,
  fallback: number,
  problems: string[],
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const text = readEnv(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number between ${min} and ${max} (got "${text}")`);
    return fallback;
  }
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Parses a yes/no setting (true/false, 1/0, yes/no, on/off); pushes a problem naming the setting otherwise. */
export function readBoolean(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const text = readEnv(env, name);
  if (text === undefined) return fallback;
  const lower = text.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  problems.push(`${name} must be true or false (got "${text}")`);
  return fallback;
}

/** True for an http(s) URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
