import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProcessPlace, processPlace, processProbes, runStep, serverProcess, withEditorProxy, workingDirectory } from '../src/processes';
import { SERVER_ARGS } from '../src/serverCommand';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'snowauth-processes-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('where the processes run', () => {
  it('in <global storage>/run, made on demand, outside the workspace, with PYTHONSAFEPATH=1', async () => {
    const storage = path.join(root, 'storage');
    const ws = path.join(root, 'ws');
    const place = await processPlace({ globalStorage: storage, workspaceFolders: [ws], platform: process.platform }, { PATH: '/bin', X: '1' });
    expect(place.cwd).toBe(path.join(storage, 'run'));
    expect(fs.statSync(place.cwd).isDirectory()).toBe(true);
    expect(place.env).toEqual({ PATH: '/bin', X: '1', PYTHONSAFEPATH: '1' });
  });

  it('in a fresh empty folder when the storage folder is inside the workspace (the home folder opened)', async () => {
    const ws = path.join(root, 'home');
    const cwd = await workingDirectory({ globalStorage: path.join(ws, '.config', 'storage'), workspaceFolders: [ws], platform: process.platform });
    try {
      expect(path.relative(ws, cwd).startsWith('..')).toBe(true);
      expect(fs.readdirSync(cwd)).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('the server gets the cwd (else vscode-languageclient picks the workspace folder) and the whole environment', () => {
    const place: ProcessPlace = { cwd: '/s/run', env: { PATH: '/bin', PYTHONSAFEPATH: '1' } };
    const launch = { command: '/py', args: [...SERVER_ARGS], source: 'setting:interpreter' as const };
    expect(serverProcess(launch, place)).toEqual({
      command: '/py',
      args: ['-P', '-m', 'snowauth', 'lsp'],
      options: { cwd: '/s/run', env: { PATH: '/bin', PYTHONSAFEPATH: '1' } },
    });
  });
});

describe.skipIf(process.platform === 'win32')('the probes and set-up steps run in the place', () => {
  /** A stand-in "python" that records its arguments, working directory and PYTHONSAFEPATH. */
  function fakePython(): { python: string; calls: () => string[] } {
    const log = path.join(root, 'calls.log');
    const python = path.join(root, 'python');
    fs.writeFileSync(python, `#!/bin/sh\necho "$* | $(pwd) | $PYTHONSAFEPATH" >> '${log}'\necho "Python 3.12.1"\n`, { mode: 0o755 });
    return { python, calls: () => fs.readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('--version without -P (the version is not known yet), the import probe with -P', async () => {
    const { python, calls } = fakePython();
    const place = await processPlace({ globalStorage: path.join(root, 's'), workspaceFolders: [path.join(root, 'ws')], platform: process.platform });
    const probes = processProbes(place, { bundledDir: root, pythonExtensionInterpreter: () => Promise.resolve(undefined), log: () => undefined });
    expect(await probes.pythonVersionOutput([python])).toContain('Python 3.12.1');
    expect(await probes.canImportSnowauth([python])).toBe(true);
    const cwd = fs.realpathSync(place.cwd);
    expect(calls()).toEqual([`--version | ${cwd} | 1`, `-P -c import snowauth | ${cwd} | 1`]);
  });

  it('the bundle: bundle.json with start.py beside it, checked as -I -S start.py --check outside the workspace', async () => {
    const { python, calls } = fakePython();
    const bundled = path.join(root, 'bundled');
    fs.mkdirSync(bundled);
    const place = await processPlace({ globalStorage: path.join(root, 's'), workspaceFolders: [path.join(root, 'ws')], platform: process.platform });
    const probes = processProbes(place, { bundledDir: bundled, pythonExtensionInterpreter: () => Promise.resolve(undefined), log: () => undefined });
    const manifest = { target: 'linux-x64', platform: 'linux', arch: 'x64', pythons: ['3.12'] };
    fs.writeFileSync(path.join(bundled, 'bundle.json'), JSON.stringify(manifest));
    expect(await probes.bundle()).toBeUndefined(); // no launcher: not a bundle
    const start = path.join(bundled, 'start.py');
    fs.writeFileSync(start, '');
    expect(await probes.bundle()).toEqual({ manifest, start });
    expect(await probes.bundleWorks([python], start)).toBe(true);
    expect(calls()).toEqual([`-I -S ${start} --check | ${fs.realpathSync(place.cwd)} | 1`]);
  });

  it('a set-up step', async () => {
    const { python, calls } = fakePython();
    const place = await processPlace({ globalStorage: path.join(root, 's'), workspaceFolders: [], platform: process.platform });
    const out: string[] = [];
    expect(await runStep([python, '-P', '-m', 'venv', 'x'], place, (t) => out.push(t))).toBe(0);
    expect(out.join('\n')).toContain('Python 3.12.1');
    expect(calls()).toEqual([`-P -m venv x | ${fs.realpathSync(place.cwd)} | 1`]);
  });
});

describe("the editor's proxy", () => {
  it('passes the user setting http.proxy as HTTPS_PROXY', () => {
    expect(withEditorProxy({ PATH: '/bin' }, 'http://proxy.corp:3128')).toEqual({ PATH: '/bin', HTTPS_PROXY: 'http://proxy.corp:3128' });
  });

  it('leaves a proxy the environment names alone (the environment wins)', () => {
    expect(withEditorProxy({ https_proxy: 'http://env:1' }, 'http://proxy.corp:3128')).toEqual({ https_proxy: 'http://env:1' });
    expect(withEditorProxy({ HTTPS_PROXY: 'http://env:1' }, 'http://proxy.corp:3128')).toEqual({ HTTPS_PROXY: 'http://env:1' });
  });

  it('ignores an empty or non-HTTP setting', () => {
    expect(withEditorProxy({ X: '1' }, undefined)).toEqual({ X: '1' });
    expect(withEditorProxy({ X: '1' }, '  ')).toEqual({ X: '1' });
    expect(withEditorProxy({ X: '1' }, 'socks5://p:1080')).toEqual({ X: '1' });
  });
});
