// Secret redaction: pino `redact` paths for log records, and a deep copy with secret-looking keys masked
// for printing configuration.

export const CENSOR = '[redacted]';

/** Field names that hold secrets in log records. */
export const SECRET_FIELDS = [
  'password',
  'proxyToken',
  'encryptionKey',
  'passwd',
  'passphrase',
  'secret',
  'clientSecret',
  'token',
  'accessToken',
  'refreshToken',
  'key',
  'apiKey',
  'privateKey',
  'authorization',
  'cookie',
  'credentials',
] as const;

/** pino redact paths: each secret field at the top level and nested one or two levels, plus HTTP headers. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
  '*.headers.Authorization',
  '*.headers.Cookie',
];

const SECRET_WORDS = /pass|secret|token|credential/i;

/** Splits camelCase, PascalCase, snake_case and kebab-case names into lower-case words. */
const words = (name: string): string[] =>
  name
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());

/**
 * Whether a key names a secret: it contains pass, secret, token or credential, or has the word key
 * (`key`, `apiKey`, `private_key`, `keys`; not `keyboardLayout`).
 */
export function isSecretKey(name: string): boolean {
  // Public keys are not secrets (and `gatehouse config` output must stay usable as a config file).
  if (/^public/i.test(name)) return false;
  return SECRET_WORDS.test(name) || words(name).some((w) => w === 'key' || w === 'keys');
}

const isMapping = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `scheme://user:password@` at the start of a value (webapp.database = postgres://user:pass@host/db). */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i;

/**
 * A deep copy with the value of every secret-looking key, and the password of every URL value, replaced by the
 * censor. A mapping under a secret-looking key is a section (`webapp.tokens`): it is searched like any other,
 * not replaced, so the copy keeps its shape.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1:${CENSOR}@`) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const secret = isSecretKey(k) && !isMapping(v) && v !== null && v !== undefined && v !== '';
    out[k] = secret ? CENSOR : redactSecrets(v);
  }
  return out as T;
}
