/** What went wrong, as the server said it: its message, and its hint when it gave one. */
import { ApiError } from '../api/client.js';

export function Problem({ error }: { error: Error | null | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {error.message}
      {error instanceof ApiError && error.hint && <span className="muted"> — {error.hint}</span>}
    </p>
  );
}
