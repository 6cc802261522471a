/**
 * Wake-ups between medallion processes: a write that makes work for others (a run created or stopped, a try
 * ended, tasks queued) says so, and the processes waiting for that kind of work pass at once instead of at their
 * next poll. On PostgreSQL the word travels by NOTIFY to every process that LISTENs (other machines included);
 * on SQLite only within the process. Wake-ups are hints: losing one costs a poll interval, never correctness.
 */
import pg from 'pg';

/** `runs`: schedulers have something to advance; `tasks`: workers have something to claim. */
export type WakeTopic = 'runs' | 'tasks';

export type WakeListener = (topic: WakeTopic) => void;

export interface Subscription {
  close(): Promise<void>;
}

/** The channel of one metadata database (schema): installations sharing a server do not wake each other. */
export function wakeChannel(schema: string | undefined): string {
  return schema ? `medallion_wake_${schema}` : 'medallion_wake';
}

function isTopic(payload: string | undefined): payload is WakeTopic {
  return payload === 'runs' || payload === 'tasks';
}

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  /** First delay before reconnecting after the connection is lost, doubled up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * One dedicated connection that LISTENs on the channel, reconnecting with backoff when the server goes away (a
 * restart, a failover). After a reconnection every topic is heard once, for what was said while it was away.
 */
export class PgWakeListener implements Subscription {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly options: PgListenerOptions,
    private readonly onWake: WakeListener,
  ) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.connectionString });
    this.client = client;
    client.on('notification', (message) => {
      if (isTopic(message.payload)) this.onWake(message.payload);
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query(`listen "${this.options.channel}"`);
      if (this.failures > 0) {
        this.onWake('runs');
        this.onWake('tasks');
      }
      this.failures = 0;
    } catch {
      this.reconnect(client);
    }
  }

  private reconnect(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    const base = this.options.backoffMs ?? 250;
    const delay = Math.min(base * 2 ** this.failures, this.options.maxBackoffMs ?? 10_000);
    this.failures += 1;
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
