/** An error that becomes an HTTP answer: status, a stable machine code, words for people, the field at fault. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, field?: string): HttpError =>
  new HttpError(400, 'bad-request', message, field);
export const unauthenticated = (message = 'Sign in first'): HttpError =>
  new HttpError(401, 'unauthenticated', message);
export const forbidden = (message = 'You may not do this'): HttpError =>
  new HttpError(403, 'forbidden', message);
export const notFound = (what = 'Not found'): HttpError => new HttpError(404, 'not-found', what);
export const conflict = (message: string, field?: string): HttpError =>
  new HttpError(409, 'conflict', message, field);
