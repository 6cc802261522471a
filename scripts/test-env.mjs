// Prepares what the test suites need beyond npm packages: a Python venv with delta-rs (the
// independent Delta reader the table tests compare against). Skips quietly when it is ready.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const venv = path.resolve('.cache/py');
const python = path.join(venv, 'bin', 'python');
const ready = () => {
  try {
    execFileSync(python, ['-c', 'import deltalake, pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

if (!ready()) {
  try {
    process.stderr.write(
      'test-env: installing delta-rs (deltalake) into .cache/py for the Delta compatibility tests\n',
    );
    if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(python, ['-m', 'pip', 'install', '-q', 'deltalake==1.6.6', 'pyarrow'], { stdio: 'inherit' });
  } catch (error) {
    process.stderr.write(
      `test-env: could not install deltalake (${error.message}); the delta-rs suite will be skipped\n`,
    );
  }
}
