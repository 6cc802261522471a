/**
 * The built `medallion` command, run as a user runs it (npm test builds it first): its exit code and output.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export const MEDALLION_CLI = path.resolve('dist/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `medallion ARGS` to its end, with these variables added to the environment (and in `cwd`). */
export async function medallion(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [MEDALLION_CLI, ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
      ...(options.cwd && { cwd: options.cwd }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
