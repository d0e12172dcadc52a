/**
 * An error the HTTP service answers with a status code and `{"error": message}`;
 * messages name the request field and echo the bad value.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A 400 naming `field` (a dotted path such as `queries[2].categories`). */
export function badRequest(field: string, what: string): HttpError {
  return new HttpError(400, `${field}: ${what}`);
}
