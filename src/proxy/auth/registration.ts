// The proxy registers itself with the webapp: POST <webapp origin>/api/proxy/register with its bearer
// credential, the address the webapp reaches it at and its zone; at start-up, then every 5 minutes so that a
// webapp restart or a database restore learns the address again. Failures are retried (backoff for outages,
// slowly for refusals) until stop(). Contract: docs/proxy-auth.md, "Registration".
import { packageVersion } from '../../cli/version.js';
import { proxyAuthOf, type RegistrationSettings, registrationSettings } from './from-config.js';
import { JsonPoster, PostFailure } from './http-post.js';
import { checkRegisterResponse, type RegisterRequest } from './schemas.js';

/** Longest registration answer read, bytes. */
export const MAX_REGISTER_RESPONSE_BYTES = 64 * 1024;

export interface RegistrationDelays {
  /** First retry after an outage (network error, timeout, 429, 5xx), ms; doubles up to maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** Retry after a refusal (401/403/409, other 4xx, an invalid answer), ms. */
  refusedRetryMs: number;
  /** Registration is renewed this often after a success, ms. */
  refreshMs: number;
}

export const REGISTRATION_DELAYS: Readonly<RegistrationDelays> = {
  firstRetryMs: 1000,
  maxRetryMs: 30_000,
  refusedRetryMs: 60_000,
  refreshMs: 300_000,
};

/** The logger methods used (pino's Logger fits). */
export interface RegistrationLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RegistrationOptions {
  /** Sent as `version`; default: the package version. */
  version?: string;
  /** Directory a relative caFile is resolved against; default process.cwd(). */
  cwd?: string;
  /** Jitter source, [0, 1); default Math.random. */
  random?: () => number;
  delays?: Partial<RegistrationDelays>;
}

export interface Registration {
  /** false when proxyAuth.webapp.advertiseUrl is empty: nothing is sent. */
  readonly enabled: boolean;
  /**
   * Resolves at the first successful registration (at once when not enabled); rejects when stop() comes
   * first. Unobserved, the rejection is harmless.
   */
  readonly registered: Promise<void>;
  /** Stops renewals and retries and aborts a request in flight. Idempotent. */
  stop(): void;
}

type Outcome =
  | { kind: 'ok'; id: string; zone: string }
  | { kind: 'refused'; text: string }
  | { kind: 'outage'; text: string };

/** A webapp-supplied message, safe for one log line. */
const clean = (text: unknown): string =>
  typeof text === 'string' ? text.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 200) : '';

function errorBody(body: Buffer): { code: string; message: string } {
  try {
    const json = JSON.parse(body.toString('utf8')) as { error?: unknown; message?: unknown } | null;
    return { code: clean(json?.error).slice(0, 64), message: clean(json?.message) };
  } catch {
    return { code: '', message: '' };
  }
}

function outcomeOf(
  status: number,
  contentType: string | undefined,
  body: Buffer,
  s: RegistrationSettings,
): Outcome {
  if (status === 200) {
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '')) {
      return { kind: 'refused', text: 'the webapp answered 200 without a JSON content type' };
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return { kind: 'refused', text: 'the webapp answered 200 with invalid JSON' };
    }
    const checked = checkRegisterResponse(json);
    if (!checked.ok) {
      return { kind: 'refused', text: `the webapp's answer does not fit: ${checked.error}` };
    }
    return { kind: 'ok', id: checked.value.id, zone: checked.value.zone };
  }
  const { code, message } = errorBody(body);
  const said = `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  if (status === 429 || status >= 500) return { kind: 'outage', text: `the webapp answered ${said}` };
  if (status === 401 || status === 403) {
    return {
      kind: 'refused',
      text: `the webapp refused this proxy's credential (${said}); check proxyAuth.webapp.proxyId and proxyToken`,
    };
  }
  if (status === 409) {
    return {
      kind: 'refused',
      text: `the webapp refused the registration as conflicting with what it knows of this proxy (${said}); this proxy states zone ${JSON.stringify(s.zone)} (proxyAuth.webapp.zone) and kind guac`,
    };
  }
  return {
    kind: 'refused',
    text: `the webapp answered ${said} to the registration at ${s.url.href} (check proxyAuth.webapp.url)`,
  };
}

const inWords = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;

/** The same failure is logged at its level at most this often; repeats in between go to debug. */
const REPEAT_LOG_MS = 600_000;

/**
 * Starts registering this proxy with the webapp (a whole configuration or its proxyAuth section's owner).
 * Throws AuthConfigError naming the key when the section is unusable (checkProxyAuthConfig reports the same
 * at start-up).
 */
export function registerWithWebapp(
  config: object,
  log: RegistrationLog,
  opts: RegistrationOptions = {},
): Registration {
  const settings = registrationSettings(proxyAuthOf(config), opts.cwd);
  if (settings === null) return { enabled: false, registered: Promise.resolve(), stop: () => {} };
  const s = settings;
  const delays = { ...REGISTRATION_DELAYS, ...opts.delays };
  const random = opts.random ?? Math.random;
  let version = opts.version;
  if (version === undefined) {
    try {
      version = packageVersion();
    } catch {
      version = 'unknown';
    }
  }
  const request: RegisterRequest = {
    proxy: { id: s.proxyId },
    kind: 'guac',
    address: s.advertiseUrl,
    zone: s.zone,
    version,
  };
  const payload = JSON.stringify(request);
  const headers = {
    authorization: `Bearer ${s.proxyToken}`,
    accept: 'application/json',
    'user-agent': 'gatehouse-proxy',
  };
  const poster = new JsonPoster(s.url, {
    ca: s.ca,
    maxResponseBytes: MAX_REGISTER_RESPONSE_BYTES,
    maxSockets: 1,
  });
  const where = {
    registration: { url: s.url.href, proxyId: s.proxyId, address: s.advertiseUrl, zone: s.zone },
  };

  let resolveRegistered!: () => void;
  let rejectRegistered!: (err: Error) => void;
  const registered = new Promise<void>((resolve, reject) => {
    resolveRegistered = resolve;
    rejectRegistered = reject;
  });
  registered.catch(() => {});

  let stopped = false;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let backoffMs = delays.firstRetryMs;
  let last: { id: string; zone: string } | undefined;
  let lastLogged: { text: string; at: number } | undefined;

  const schedule = (ms: number): void => {
    timer = setTimeout(() => void attempt(), Math.max(0, Math.round(ms)));
    timer.unref();
  };
  /** Logs a failure at `level`, or at debug when the same failure was logged within REPEAT_LOG_MS. */
  const logFailure = (level: 'warn' | 'error', text: string, retryMs: number): void => {
    const now = Date.now();
    const repeat =
      lastLogged !== undefined && lastLogged.text === text && now - lastLogged.at < REPEAT_LOG_MS;
    if (!repeat) lastLogged = { text, at: now };
    log[repeat ? 'debug' : level](
      { ...where, retryMs },
      `cannot register with the webapp: ${text}; retrying in ${inWords(retryMs)}`,
    );
  };

  const post = async (): Promise<Outcome> => {
    try {
      const r = await poster.post(payload, headers, s.timeoutMs);
      return outcomeOf(r.status, r.contentType, r.body, s);
    } catch (err) {
      if (!(err instanceof PostFailure)) throw err;
      if (err.kind === 'oversize') return { kind: 'refused', text: `the webapp's answer: ${err.message}` };
      return { kind: 'outage', text: err.message };
    }
  };

  const attempt = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    let outcome: Outcome;
    try {
      outcome = await post();
    } catch (err) {
      outcome = { kind: 'outage', text: err instanceof Error ? err.message : String(err) };
    }
    if (stopped) return;
    if (outcome.kind === 'ok') {
      backoffMs = delays.firstRetryMs;
      lastLogged = undefined;
      const changed = last === undefined || last.id !== outcome.id || last.zone !== outcome.zone;
      last = { id: outcome.id, zone: outcome.zone };
      log[changed ? 'info' : 'debug'](
        { ...where, webappId: outcome.id, webappZone: outcome.zone },
        changed
          ? `registered with the webapp as ${outcome.id} in zone ${outcome.zone}`
          : `registration with the webapp renewed (${outcome.id} in zone ${outcome.zone})`,
      );
      if (!done) {
        done = true;
        resolveRegistered();
      }
      schedule(delays.refreshMs * (0.9 + 0.2 * random()));
      return;
    }
    if (outcome.kind === 'refused') {
      const retryMs = delays.refusedRetryMs * (0.9 + 0.2 * random());
      logFailure('error', outcome.text, retryMs);
      schedule(retryMs);
      return;
    }
    const retryMs = backoffMs * (0.5 + 0.5 * random());
    backoffMs = Math.min(backoffMs * 2, delays.maxRetryMs);
    logFailure('warn', outcome.text, retryMs);
    schedule(retryMs);
  };

  void attempt();
  return {
    enabled: true,
    registered,
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      poster.close();
      if (!done) rejectRegistered(new Error('registration stopped before the webapp accepted it'));
    },
  };
}
