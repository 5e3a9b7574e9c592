// npm run package [-- TARGET…]: the .vsix files. For each vsce target (linux-x64, linux-arm64, darwin-x64,
// darwin-arm64, win32-x64) bundled/ is filled by scripts/bundle.py with the server and every runtime dependency
// for that platform (no network at first start), then `vsce package --target`; last the universal .vsix (the
// wheel only: a private venv, dependencies from PyPI), whose bundled/ stays in place. Prints each file's size.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extensionDir, findPython } from './python.mjs';

export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];
/** @type {unknown} */
const parsed = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8'));
const version = parsed && typeof parsed === 'object' && 'version' in parsed ? String(parsed.version) : '0.0.0';
const wanted = process.argv.slice(2);
for (const t of wanted) {
  if (t !== 'universal' && !TARGETS.includes(t)) {
    console.error(`unknown target ${t} (one of ${TARGETS.join(', ')}, universal)`);
    process.exit(2);
  }
}
const targets = wanted.length ? wanted : [...TARGETS, 'universal'];
const python = findPython();
const vsce = join(extensionDir, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');

/**
 * @param {string} cmd
 * @param {string[]} args
 */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: extensionDir, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.error?.message})`);
    process.exit(1);
  }
}

/** @param {string} target */
export function vsixName(target) {
  return target === 'universal' ? `snowauth-${version}.vsix` : `snowauth-${target}-${version}.vsix`;
}

run('npm', ['run', '-s', 'build']);
// one wheel for every target
run(python, ['scripts/bundle.py', 'universal']);
const bundled = join(extensionDir, 'bundled');
const wheelName = readdirSync(bundled).find((f) => /^snowauth-.*\.whl$/.test(f));
const keep = mkdtempSync(join(tmpdir(), 'snowauth-wheel-'));
const wheel = join(keep, wheelName);
copyFileSync(join(bundled, wheelName), wheel);
const sizes = [];
// the universal one last: it leaves bundled/ as a development checkout expects it (the wheel only)
for (const target of [...targets.filter((t) => t !== 'universal'), ...targets.filter((t) => t === 'universal')]) {
  run(python, ['scripts/bundle.py', target, '--wheel', wheel]);
  const out = vsixName(target);
  run(vsce, ['package', '--no-dependencies', ...(target === 'universal' ? [] : ['--target', target]), '-o', out]);
  sizes.push([out, statSync(join(extensionDir, out)).size]);
}
rmSync(keep, { recursive: true, force: true });
for (const [file, size] of sizes) console.log(`${file}\t${(size / 1e6).toFixed(1)} MB`);
