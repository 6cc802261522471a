import { describeError, MedallionError } from '../core/errors.js';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, runFailed: 1, usage: 2 } as const;

/** Prints the error for people and exits: 2 for what medallion rejects (bad input), 1 for anything else. */
export function fail(error: unknown): never {
  process.stderr.write(`medallion: ${describeError(error)}\n`);
  process.exit(error instanceof MedallionError ? EXIT.usage : EXIT.runFailed);
}
