/**
 * The webhook channel: POSTs Slack-compatible JSON (`{ text, blocks }`, which Slack's incoming webhooks and
 * most chat tools that copy them accept) to a URL, with a time limit per request and retries with backoff on
 * network errors, timeouts and 5xx/429 answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../core/errors.js';
import { AlertDeliveryError, describeGrouping, type AlertChannel, type AlertMessage } from './channel.js';

export interface WebhookChannelOptions {
  url: string;
  /** One request's time limit (default 10 s). */
  timeoutMs?: number;
  /** Further tries after a retryable failure (default 2). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default 500 ms). */
  backoffMs?: number;
}

const SEVERITY_ICON = { error: ':rotating_light:', warning: ':warning:' } as const;

/** Slack-compatible payload: `text` alone is a complete message; `blocks` lay it out where supported. */
export function slackPayload(message: AlertMessage): { text: string; blocks: unknown[] } {
  const grouping = describeGrouping(message);
  const text = `${SEVERITY_ICON[message.severity]} *${message.title}*\n${message.text}\n_${grouping}_`;
  return {
    text,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: truncate(message.title, 150), emoji: true },
      },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(message.text, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: truncate(`${message.severity} · ${grouping} · cause \`${message.cause}\``, 3000),
          },
        ],
      },
    ],
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The URL fit for messages and logs: its scheme and host, the rest `/***`. Slack's URLs carry their secret in the
 * path, others in the query or the credentials, so none of those is ever shown.
 */
export function redactWebhookUrl(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}/***`;
  } catch {
    return '(not a URL)';
  }
}

export class WebhookChannel implements AlertChannel {
  private readonly url: string;
  /** fetch refuses URLs with credentials: `https://user:password@host/…` becomes Basic authentication. */
  private readonly target: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  /** Each way a text may quote the URL (as given, as parsed, as fetched, its path and query), and its stand-in. */
  private readonly quotes: [secret: string, shown: string][];

  constructor(
    readonly name: string,
    options: WebhookChannelOptions,
  ) {
    this.url = options.url;
    const parsed = parseUrl(name, options.url);
    const given = parsed.href;
    if (parsed.username || parsed.password) {
      const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    this.target = parsed.href;
    const shown = redactWebhookUrl(options.url);
    const tail = parsed.pathname + parsed.search;
    this.quotes = [options.url, given, this.target].map((form): [string, string] => [form, shown]);
    if (tail !== '/') this.quotes.push([tail, '/***']);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 500;
  }

  async send(message: AlertMessage): Promise<void> {
    const body = JSON.stringify(slackPayload(message));
    const tries = this.retries + 1;
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.post(body);
      if (outcome.ok) return;
      if (!outcome.retryable || attempt >= tries) {
        const count = attempt === 1 ? '' : ` (after ${attempt} tries)`;
        // The answer may quote the URL too (`Cannot POST /services/…`).
        throw new AlertDeliveryError(
          this.redact(`webhook ${this.name} (${redactWebhookUrl(this.url)}): ${outcome.problem}${count}`),
        );
      }
      await sleep(outcome.retryAfterMs ?? this.backoffMs * 2 ** (attempt - 1));
    }
  }

  redact(text: string): string {
    return this.quotes.reduce((result, [secret, shown]) => result.replaceAll(secret, shown), text);
  }

  private async post(
    body: string,
  ): Promise<{ ok: true } | { ok: false; retryable: boolean; problem: string; retryAfterMs?: number }> {
    let response: Response;
    let answer: string;
    try {
      response = await fetch(this.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'medallion-alerts',
          ...(this.authorization && { authorization: this.authorization }),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      answer = await response.text();
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      const problem =
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${this.timeoutMs} ms`
          : `cannot reach the server: ${networkReason(error)}`;
      return { ok: false, retryable: true, problem };
    }
    if (response.ok) return { ok: true };
    const excerpt = answer.trim().slice(0, 200);
    const problem = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`;
    const retryable = response.status >= 500 || response.status === 429;
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      ok: false,
      retryable,
      problem,
      // A server asking for a pause gets it, within reason.
      ...(retryable && retryAfter > 0 && { retryAfterMs: Math.min(retryAfter, 30) * 1000 }),
    };
  }
}

/** The URL parsed, or an error that does not quote it (Node's TypeError keeps it as `input`). */
function parseUrl(channel: string, url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new ConfigError(`alert channel ${channel}: the webhook URL is not a valid URL`, {
      context: { field: `channels.${channel}.webhook` },
    });
  }
}

/** fetch's "fetch failed" says little; its cause (ECONNREFUSED…) says what went wrong. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
