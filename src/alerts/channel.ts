/**
 * The port between the alerter and the places alerts go (a webhook, an SMTP server), and the words every
 * channel uses to say an alert.
 */
import type { Alert } from '../core/alert-rules.js';

/** An alert as sent: what happened, and how often its cause has happened. */
export interface AlertMessage extends Alert {
  /** When it was sent (ISO). */
  at: string;
  /** Occurrences of the cause so far. */
  occurrences: number;
  /** Occurrences since the cause was last sent, this one included: 1 unless repeats were grouped. */
  grouped: number;
  /** The cause's first occurrence. */
  firstAt: string;
  /** When the cause was last sent before this (null: this is the first time). */
  previousSentAt: string | null;
}

export interface AlertChannel {
  /** The name the configuration gives it. */
  readonly name: string;
  /** Delivers the message, or throws an error saying why it could not (naming the channel). */
  send(message: AlertMessage): Promise<void>;
  /** The text with the channel's secrets (a webhook's URL) hidden, before it is logged, stored or sent. */
  redact?(text: string): string;
  /** Releases connections (SMTP pool); optional. */
  close?(): Promise<void>;
}

/** A channel's failure to deliver. */
export class AlertDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertDeliveryError';
  }
}

/** "first time", or how many occurrences since when this alert stands for. */
export function describeGrouping(message: AlertMessage): string {
  if (message.previousSentAt === null && message.occurrences <= 1) return 'First occurrence.';
  const since = message.previousSentAt
    ? `since the last alert at ${message.previousSentAt}`
    : `since ${message.firstAt}`;
  return `${message.grouped} occurrence(s) ${since}; ${message.occurrences} in all since ${message.firstAt}.`;
}

/** The alert as plain text: title, what happened, grouping, facts and cause. */
export function renderText(message: AlertMessage): string {
  const facts = Object.entries(message.facts)
    .filter(([, value]) => value !== null && value !== '')
    .map(([key, value]) => `  ${key}: ${value}`);
  return [
    `${message.severity.toUpperCase()}: ${message.title}`,
    '',
    message.text,
    '',
    describeGrouping(message),
    '',
    ...(facts.length ? ['Facts:', ...facts, ''] : []),
    `Cause: ${message.cause}`,
    `Sent by medallion at ${message.at}.`,
  ].join('\n');
}

/** The e-mail subject: severity, title (which names the pipeline) and cause. */
export function renderSubject(message: AlertMessage): string {
  const repeats = message.grouped > 1 ? ` (${message.grouped} times)` : '';
  return `[medallion ${message.severity}] ${message.title}${repeats} [${message.cause}]`;
}
