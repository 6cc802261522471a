/**
 * Every error medallion raises on purpose carries where it happened and what to do about it,
 * so the CLI can print one useful message instead of a stack trace.
 */
export interface ErrorContext {
  /** The file, object key or table the error is about. */
  file?: string;
  /** 1-based line in a text file. */
  line?: number;
  /** 0-based byte offset in a file. */
  byte?: number;
  /** 1-based record number (row in a CSV, element of a JSON array). */
  record?: number;
  /** Config field, CLI flag or setting at fault. */
  field?: string;
}

export class MedallionError extends Error {
  readonly context: ErrorContext;
  readonly hint: string | undefined;
  /** Findings worth keeping with the failed try (JSON), e.g. the expectations that broke. */
  readonly data: unknown;

  constructor(
    message: string,
    options: { context?: ErrorContext; hint?: string; cause?: unknown; data?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
    this.hint = options.hint;
    this.data = options.data;
  }

  /** True when another try cannot mend it (bad input, bad configuration…): the task is not retried. */
  get permanent(): boolean {
    return false;
  }

  /** "file.json (line 12, byte 345): message\n  hint: …" */
  describe(): string {
    const { file, line, byte, record, field } = this.context;
    const where = [
      record !== undefined ? `record ${record}` : undefined,
      line !== undefined ? `line ${line}` : undefined,
      byte !== undefined ? `byte ${byte}` : undefined,
    ].filter((part): part is string => part !== undefined);
    const subject = file ?? field;
    // A message that already starts with its subject (e.g. `--retain: …`) does not get it twice.
    const named = subject !== undefined && where.length === 0 && this.message.startsWith(`${subject}`);
    const prefix = subject && !named ? `${subject}${where.length ? ` (${where.join(', ')})` : ''}: ` : '';
    return `${prefix}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** A source file that cannot be read as its source declares (malformed, truncated, wrong encoding…). */
export class SourceFileError extends MedallionError {
  override get permanent(): boolean {
    return true;
  }
}

/** A pipeline definition or configuration value that does not make sense. */
export class ConfigError extends MedallionError {
  override get permanent(): boolean {
    return true;
  }
}

/** What was asked for does not exist (a run, a pipeline, a task, a user…). */
export class NotFoundError extends MedallionError {}

/** Another writer committed the table version this writer wanted. */
export class CommitConflictError extends MedallionError {}

/** The run's own row accounting does not add up: a transformation lost or invented records. */
export class AccountingError extends MedallionError {
  override get permanent(): boolean {
    return true;
  }
}

/** The run a try belongs to is being stopped (cancelled, or its process interrupted): the try ends now. */
export class RunStoppedError extends MedallionError {
  constructor(
    readonly stop: 'failed' | 'cancelled',
    reason: string,
  ) {
    super(reason);
  }

  override get permanent(): boolean {
    return true;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof MedallionError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Failures that another try cannot mend: bad source files, bad configuration, broken accounting, broken
 * expectations. A task failing with one is not retried (rejected files are recorded, so a retry would even
 * succeed by skipping them).
 */
export function isPermanent(error: unknown): boolean {
  return error instanceof MedallionError && error.permanent;
}
