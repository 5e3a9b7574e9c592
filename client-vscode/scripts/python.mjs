// Finds the Python that builds the wheel and prints the schema: $PYTHON, else the repository's .venv, else python3.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const extensionDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(extensionDir, '..');

export function findPython() {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = process.platform === 'win32' ? join(repoDir, '.venv', 'Scripts', 'python.exe') : join(repoDir, '.venv', 'bin', 'python');
  if (existsSync(venv)) return venv;
  return process.platform === 'win32' ? 'python' : 'python3';
}
