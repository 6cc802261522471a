/**
 * The UI's way to the API: JSON in and out, the session's CSRF token on every change, errors as `ApiError` with the
 * server's message. Types come from the server's own modules (type-only imports: nothing of the server is bundled).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const CSRF_KEY = 'medallion.csrf';

/** Kept for the session's changes (and for the API reference page, which reads it too). */
export function rememberCsrf(token: string | null): void {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

/** Called when the server says the session is gone (401): the app shows the sign-in page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...(method !== 'GET' && csrf && { 'x-csrf-token': csrf }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (body ?? {}) as { error?: string; field?: string; hint?: string };
    if (response.status === 401 && path !== '/api/auth/login') onSignedOut();
    throw new ApiError(response.status, error.error ?? response.statusText, error.field, error.hint);
  }
  return body as T;
}
