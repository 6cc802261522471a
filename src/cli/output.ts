/** How commands print: one JSON document on stdout for scripts, text for people, notes on stderr. */
import { seconds } from './render.js';

export { ago } from '../core/time-words.js';

/** One JSON document on stdout for scripts, or the text for people. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** An ISO timestamp for a table: `2024-05-01 06:00:00`, just the date at midnight (UTC), `—` for none. */
export function when(iso: string | null, dateOnlyAtMidnight = false): string {
  if (!iso) return '—';
  const text = iso.slice(0, 19).replace('T', ' ');
  return dateOnlyAtMidnight && text.endsWith(' 00:00:00') ? text.slice(0, 10) : text;
}

export function elapsed(startedAt: string | null, finishedAt: string | null): string {
  if (!startedAt) return '—';
  const end = finishedAt ? Date.parse(finishedAt) : Date.now();
  return `${seconds(end - Date.parse(startedAt))}${finishedAt ? '' : ' …'}`;
}

/** `YYYY-MM-DD` → midnight UTC; an ISO instant as given. */
export function toInstant(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}
