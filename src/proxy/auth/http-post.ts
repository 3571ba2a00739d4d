// One bounded JSON POST over node:https (or node:http when allowed): a deadline for the whole exchange, a cap
// on the response body, a private CA, keep-alive connections. Failures are classified for the caller.
import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export type PostFailureKind = 'timeout' | 'network' | 'oversize';

export class PostFailure extends Error {
  override readonly name = 'PostFailure';
  constructor(
    readonly kind: PostFailureKind,
    message: string,
  ) {
    super(message);
  }
}

export interface PosterOptions {
  /** Trusted CA certificates (PEM) instead of the system store. */
  ca?: string | undefined;
  /** Longest accepted response body, in bytes. */
  maxResponseBytes: number;
  /** Most concurrent connections to the server. */
  maxSockets?: number;
}

/**
 * The webapp URL of the proxyAuth.webapp section, checked the way every call to the webapp needs it:
 * https:// (http:// only with allowInsecureHttp) and no credentials in it. Throws RangeError saying why.
 */
export function webappUrl(text: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`webapp url ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecureHttp)) {
    throw new RangeError(
      `webapp url must be https:// (http:// only with allowInsecureHttp), not ${JSON.stringify(url.protocol)}`,
    );
  }
  if (url.username || url.password) throw new RangeError('webapp url must not carry credentials');
  return url;
}

/** Posts JSON bodies to one origin, reusing connections. */
export class JsonPoster {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(
    readonly url: URL,
    private readonly options: PosterOptions,
  ) {
    const common = { keepAlive: true, maxSockets: options.maxSockets ?? 64, maxFreeSockets: 8 };
    if (url.protocol === 'https:') {
      this.transport = https;
      this.agent = new https.Agent({ ...common, ...(options.ca !== undefined ? { ca: options.ca } : {}) });
    } else {
      this.transport = http;
      this.agent = new http.Agent(common);
    }
  }

  post(body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
    return new Promise<PostResult>((resolve, reject) => {
      let settled = false;
      const finish = (err: PostFailure | undefined, result?: PostResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(result!);
      };
      const payload = Buffer.from(body, 'utf8');
      const req = this.transport.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
      });
      const timer = setTimeout(() => {
        finish(new PostFailure('timeout', `no complete answer within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        finish(new PostFailure('network', err.code ? `${err.code}: ${err.message}` : err.message));
      });
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > this.options.maxResponseBytes) {
          finish(new PostFailure('oversize', `response body of ${declared} bytes announced`));
          res.destroy();
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.options.maxResponseBytes) {
            finish(new PostFailure('oversize', `response body over ${this.options.maxResponseBytes} bytes`));
            res.destroy();
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => finish(new PostFailure('network', `response: ${err.message}`)));
        res.on('aborted', () => finish(new PostFailure('network', 'response aborted')));
        res.on('end', () => {
          if (!res.complete) {
            finish(new PostFailure('network', 'response ended early'));
            return;
          }
          finish(undefined, {
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks),
          });
        });
      });
      req.end(payload);
    });
  }

  /** Closes idle connections and refuses new ones. */
  close(): void {
    this.agent.destroy();
  }
}
