// npm run wheel: builds the server's wheel into bundled/ (shipped inside the .vsix; the extension installs it into
// a private venv when no other server is configured). Equivalent to, from the repository root:
//   python -m pip wheel --no-deps -w client-vscode/bundled .
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { extensionDir, findPython, repoDir } from './python.mjs';

const bundled = join(extensionDir, 'bundled');
mkdirSync(bundled, { recursive: true });
for (const f of readdirSync(bundled)) if (f.endsWith('.whl')) rmSync(join(bundled, f));
const python = findPython();
const r = spawnSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '-q', '-w', bundled, repoDir], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.error(`building the wheel with ${python} failed (exit ${r.status ?? r.error?.message})`);
  process.exit(1);
}
const wheels = readdirSync(bundled).filter((f) => /^snowauth-.*\.whl$/.test(f));
if (wheels.length !== 1) {
  console.error(`expected one snowauth-*.whl in bundled/, found: ${wheels.join(', ') || 'none'}`);
  process.exit(1);
}
console.log(`bundled/${wheels[0]}`);
