// Login sessions: a random cookie (HttpOnly, Secure, SameSite=Strict), its SHA-256 in the database with a
// CSRF token, idle and absolute expiry. `__Host-` prefix over HTTPS, so no subdomain can set or shadow it.
import type { IncomingMessage } from 'node:http';
import { randomSecret, sha256Hex } from '../security/tokens.js';
import type { Store, User, WebSession } from '../store/types.js';
import { parseCookies, serializeCookie } from './cookies.js';

export interface WebSessionOptions {
  secure: boolean;
  idleMs: number;
  maxMs: number;
  now?: () => number;
}

/** lastSeen is written at most this often per session (a request stream must not be a write stream). */
const TOUCH_EVERY_MS = 30_000;

export class WebSessions {
  readonly cookieName: string;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly opts: WebSessionOptions,
  ) {
    this.cookieName = opts.secure ? '__Host-gh_session' : 'gh_session';
    this.now = opts.now ?? Date.now;
  }

  /** Starts a session for the user: the Set-Cookie value and the CSRF token for the page. */
  async create(user: User): Promise<{ setCookie: string; session: WebSession }> {
    const secret = randomSecret();
    const now = this.now();
    const session: WebSession = {
      id: sha256Hex(secret),
      userId: user.id,
      csrfToken: randomSecret(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + this.opts.idleMs, now + this.opts.maxMs),
    };
    await this.store.createWebSession(session);
    const setCookie = serializeCookie(this.cookieName, secret, {
      secure: this.opts.secure,
      maxAgeSeconds: this.opts.maxMs / 1000,
    });
    return { setCookie, session };
  }

  /** The cookie's session and user, or null (no cookie, unknown, expired, user gone or disabled). */
  async authenticate(req: IncomingMessage): Promise<{ session: WebSession; user: User } | null> {
    const secret = parseCookies(req.headers.cookie).get(this.cookieName);
    if (!secret || secret.length > 128) return null;
    return this.lookup(sha256Hex(secret));
  }

  async lookup(id: string): Promise<{ session: WebSession; user: User } | null> {
    const session = await this.store.getWebSession(id);
    if (!session) return null;
    const now = this.now();
    if (session.expiresAt <= now || session.createdAt + this.opts.maxMs <= now) {
      await this.store.deleteWebSession(id);
      return null;
    }
    const user = await this.store.getUser(session.userId);
    if (!user || user.disabled) return null;
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
      const expiresAt = Math.min(now + this.opts.idleMs, session.createdAt + this.opts.maxMs);
      await this.store.touchWebSession(id, now, expiresAt);
      session.lastSeenAt = now;
      session.expiresAt = expiresAt;
    }
    return { session, user };
  }

  async destroy(id: string): Promise<string> {
    await this.store.deleteWebSession(id);
    return this.clearCookie();
  }

  clearCookie(): string {
    return serializeCookie(this.cookieName, '', { secure: this.opts.secure, maxAgeSeconds: 0 });
  }
}
