import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CommandLine,
  type Probes,
  type ResolveInput,
  type BundleManifest,
  IMPORT_PROBE_ARGS,
  SERVER_ARGS,
  bundleArgs,
  parseBundleManifest,
  WHEEL_MARKER,
  bootstrapSteps,
  commandSetting,
  isSupportedPython,
  noPythonMessage,
  parsePythonVersion,
  pythonCandidates,
  resolveServer,
  settingPath,
  venvPythonPath,
} from '../src/serverCommand';

interface World {
  /** `--version` output per command line (joined with a space); absent = cannot run. */
  versions?: Record<string, string>;
  /** command lines (joined) that can import snowauth */
  importable?: string[];
  pythonExt?: string;
  wheel?: string;
  files?: Record<string, string>;
  bundle?: BundleManifest;
  /** command lines (joined) whose `-I -S start.py --check` succeeds */
  bundleRuns?: string[];
}

function probes(w: World): Probes & { calls: string[] } {
  const calls: string[] = [];
  const key = (c: CommandLine): string => c.join(' ');
  return {
    calls,
    pythonVersionOutput: (c) => {
      calls.push(`version ${key(c)}`);
      return Promise.resolve(w.versions?.[key(c)]);
    },
    canImportSnowauth: (c) => {
      calls.push(`import ${key(c)}`);
      return Promise.resolve(w.importable?.includes(key(c)) ?? false);
    },
    pythonExtensionInterpreter: () => Promise.resolve(w.pythonExt),
    bundledWheel: () => Promise.resolve(w.wheel),
    bundle: () => Promise.resolve(w.bundle ? { manifest: w.bundle, start: START } : undefined),
    bundleWorks: (c, start) => {
      calls.push(`bundle ${key(c)} ${start}`);
      return Promise.resolve(w.bundleRuns?.includes(key(c)) ?? false);
    },
    exists: (f) => Promise.resolve(w.files?.[f] !== undefined),
    readText: (f) => Promise.resolve(w.files?.[f]),
  };
}

const STORAGE = '/home/u/.vscode/globalStorage/snowauth.snowauth';
const VENV = path.join(STORAGE, 'venv');
const VENV_PY = path.join(VENV, 'bin', 'python');
const WHEEL = '/ext/bundled/snowauth-0.1.0-py3-none-any.whl';
const START = '/ext/bundled/start.py';
const LINUX_X64: BundleManifest = { target: 'linux-x64', platform: 'linux', arch: 'x64', pythons: ['3.11', '3.12', '3.13', '3.14'] };

function input(over: Partial<ResolveInput> = {}): ResolveInput {
  return {
    command: [],
    interpreter: '',
    globalStorage: STORAGE,
    platform: 'linux',
    arch: 'x64',
    trusted: true,
    workspaceFolders: ['/ws'],
    ...over,
  };
}

describe('parsePythonVersion', () => {
  it.each([
    ['Python 3.11.7', [3, 11, 7]],
    ['Python 3.13.0rc1\n', [3, 13, 0]],
    ['Python 3.12.0+', [3, 12, 0]],
    ['3.12.1', [3, 12, 1]],
    ['Python 3.9', [3, 9, 0]],
    ['Python 2.7.18', [2, 7, 18]],
  ])('%j', (out, [major, minor, micro]) => {
    expect(parsePythonVersion(out)).toEqual({ major, minor, micro });
  });

  it.each([undefined, '', 'command not found', 'pyenv: python3.13: command not found'])('%j -> undefined', (out) => {
    expect(parsePythonVersion(out)).toBeUndefined();
  });

  it('checks the minimum version', () => {
    expect(isSupportedPython(parsePythonVersion('Python 3.11.0'))).toBe(true);
    expect(isSupportedPython(parsePythonVersion('Python 3.14.1'))).toBe(true);
    expect(isSupportedPython(parsePythonVersion('Python 4.0.0'))).toBe(true);
    expect(isSupportedPython(parsePythonVersion('Python 3.10.14'))).toBe(false);
    expect(isSupportedPython(parsePythonVersion('Python 2.7.18'))).toBe(false);
    expect(isSupportedPython(undefined)).toBe(false);
  });
});

describe('settings', () => {
  it('normalises snowauth.server.command', () => {
    expect(commandSetting(['/py', '-m', 'snowauth', 'lsp'])).toEqual(['/py', '-m', 'snowauth', 'lsp']);
    expect(commandSetting([])).toBeUndefined();
    expect(commandSetting(undefined)).toBeUndefined();
    expect(commandSetting(['', 'x'])).toBeUndefined();
    expect(commandSetting([1, 2])).toBeUndefined();
    expect(commandSetting(' snowauth-lsp ')).toEqual(['snowauth-lsp']);
  });

  it('a command setting wins over everything, without probing', async () => {
    const p = probes({ pythonExt: '/env/bin/python', importable: ['/env/bin/python'] });
    const r = await resolveServer(input({ command: ['/x/python', '-m', 'snowauth', 'lsp', '--verbose'], interpreter: '/y/python' }), p);
    expect(r).toEqual({
      kind: 'launch',
      launch: { command: '/x/python', args: ['-m', 'snowauth', 'lsp', '--verbose'], source: 'setting:command' },
    });
    expect(p.calls).toEqual([]);
  });

  it('an interpreter setting comes next and runs -m snowauth lsp', async () => {
    const p = probes({ versions: { '/y/python': 'Python 3.12.3' }, importable: ['/y/python', '/env/bin/python'], pythonExt: '/env/bin/python' });
    const r = await resolveServer(input({ interpreter: '/y/python' }), p);
    expect(r).toEqual({ kind: 'launch', launch: { command: '/y/python', args: ['-P', '-m', 'snowauth', 'lsp'], source: 'setting:interpreter' } });
    expect(p.calls.slice(0, 2)).toEqual(['version /y/python', 'import /y/python']);
  });

  it('a relative interpreter or command means the first workspace folder\'s (the processes do not run there)', async () => {
    const p = probes({ versions: { '/ws/.venv/bin/python': 'Python 3.12.3' }, importable: ['/ws/.venv/bin/python'] });
    const r = await resolveServer(input({ interpreter: '.venv/bin/python' }), p);
    expect(r).toMatchObject({ kind: 'launch', launch: { command: '/ws/.venv/bin/python' } });
    const c = await resolveServer(input({ command: ['./tools/lsp', '--stdio'] }), probes({}));
    expect(c).toMatchObject({ kind: 'launch', launch: { command: '/ws/tools/lsp', args: ['--stdio'] } });
  });

  it('an interpreter setting that is too old, missing or lacks snowauth is an error, not a fallback', async () => {
    const old = await resolveServer(input({ interpreter: '/old' }), probes({ versions: { '/old': 'Python 3.10.2' }, importable: ['/old'] }));
    expect(old).toMatchObject({ kind: 'error' });
    expect(old.kind === 'error' && old.message).toContain('3.10.2');
    const missing = await resolveServer(input({ interpreter: '/nope' }), probes({}));
    expect(missing.kind === 'error' && missing.message).toContain('could not be run');
    const noPkg = await resolveServer(input({ interpreter: '/y' }), probes({ versions: { '/y': 'Python 3.12.0' } }));
    expect(noPkg.kind === 'error' && noPkg.message).toContain('cannot import snowauth');
  });
});

describe('the Python extension interpreter', () => {
  it('is used when it can import snowauth', async () => {
    const p = probes({ pythonExt: '/env/bin/python', importable: ['/env/bin/python'], wheel: WHEEL, versions: { '/env/bin/python': 'Python 3.11.4' } });
    const r = await resolveServer(input(), p);
    expect(r).toEqual({ kind: 'launch', launch: { command: '/env/bin/python', args: ['-P', '-m', 'snowauth', 'lsp'], source: 'python-extension' } });
    expect(p.calls.slice(0, 2)).toEqual(['version /env/bin/python', 'import /env/bin/python']);
  });

  it('is not asked to import anything when it is older than 3.11 (it would not know -P)', async () => {
    const p = probes({ pythonExt: '/old/bin/python', importable: ['/old/bin/python'], wheel: WHEEL, versions: { '/old/bin/python': 'Python 3.10.12', python3: 'Python 3.12.0' } });
    const r = await resolveServer(input(), p);
    expect(r.kind).toBe('bootstrap');
    expect(p.calls).not.toContain('import /old/bin/python');
  });

  it('is skipped when it cannot', async () => {
    const r = await resolveServer(
      input(),
      probes({ pythonExt: '/env/bin/python', wheel: WHEEL, versions: { 'python3.12': 'Python 3.12.1' } }),
    );
    expect(r.kind).toBe('bootstrap');
  });

  it('is not run from inside an untrusted workspace', async () => {
    const p = probes({ pythonExt: '/ws/.venv/bin/python', importable: ['/ws/.venv/bin/python'], wheel: WHEEL, versions: { python3: 'Python 3.11.2' } });
    const r = await resolveServer(input({ trusted: false }), p);
    expect(r.kind).toBe('bootstrap');
    expect(p.calls).not.toContain('import /ws/.venv/bin/python');
    // ...but one outside the workspace is fine
    const r2 = await resolveServer(
      input({ trusted: false }),
      probes({ pythonExt: '/usr/bin/python3', importable: ['/usr/bin/python3'], versions: { '/usr/bin/python3': 'Python 3.11.2' } }),
    );
    expect(r2).toMatchObject({ kind: 'launch', launch: { source: 'python-extension' } });
  });
});

describe('the private venv', () => {
  it('is created with the newest Python 3.11+ on PATH, skipping old and missing ones', async () => {
    const r = await resolveServer(
      input(),
      probes({ wheel: WHEEL, versions: { 'python3.11': 'Python 3.11.9', python3: 'Python 3.9.2' } }),
    );
    expect(r.kind).toBe('bootstrap');
    if (r.kind !== 'bootstrap') return;
    expect(r.plan.basePython).toEqual(['python3.11']);
    expect(r.plan.steps).toEqual([
      ['python3.11', '-P', '-m', 'venv', '--clear', VENV],
      [VENV_PY, '-P', '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', WHEEL],
    ]);
    expect(r.plan.launch).toEqual({ command: VENV_PY, args: ['-P', '-m', 'snowauth', 'lsp'], source: 'private-venv' });
  });

  it('is reused when it holds the bundled wheel', async () => {
    const files = { [VENV_PY]: '', [path.join(VENV, WHEEL_MARKER)]: 'snowauth-0.1.0-py3-none-any.whl\n' };
    const p = probes({ wheel: WHEEL, files, importable: [VENV_PY], versions: { python3: 'Python 3.12.0' } });
    const r = await resolveServer(input(), p);
    expect(r).toEqual({ kind: 'launch', launch: { command: VENV_PY, args: ['-P', '-m', 'snowauth', 'lsp'], source: 'private-venv' } });
    expect(p.calls.some((c) => c.startsWith('version'))).toBe(false);
  });

  it('is rebuilt when the extension ships a newer wheel', async () => {
    const files = { [VENV_PY]: '', [path.join(VENV, WHEEL_MARKER)]: 'snowauth-0.0.9-py3-none-any.whl\n' };
    const r = await resolveServer(input(), probes({ wheel: WHEEL, files, importable: [VENV_PY], versions: { python3: 'Python 3.12.0' } }));
    expect(r.kind).toBe('bootstrap');
  });

  it('uses Scripts\\python.exe and the py launcher on Windows', () => {
    expect(venvPythonPath('C:\\s\\venv', 'win32')).toBe('C:\\s\\venv\\Scripts\\python.exe');
    expect(pythonCandidates('win32')[0]).toEqual(['py', '-3.14']);
    expect(pythonCandidates('linux').map((c) => c.join(' '))).toEqual(['python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3', 'python']);
  });
});

describe('no usable Python', () => {
  it('gives one clear message naming Python 3.11+ and the interpreter setting', async () => {
    const r = await resolveServer(input(), probes({ wheel: WHEEL, versions: { python3: 'Python 3.9.2' } }));
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.message).toContain('Install Python 3.11+');
    expect(r.message).toContain('"snowauth.server.interpreter"');
    expect(r.message).toContain('python3.14, python3.13, python3.12, python3.11, python3, python');
    expect(r.message).toContain('Found only python3 3.9.2');
  });

  it('without any Python at all', () => {
    expect(noPythonMessage(pythonCandidates('linux'), [])).toBe(
      'SnowAuth needs Python 3.11 or newer to run its language server, and none was found on PATH ' +
        '(looked for python3.14, python3.13, python3.12, python3.11, python3, python). Install Python 3.11+ or set ' +
        '"snowauth.server.interpreter" to a Python that has snowauth installed.',
    );
  });

  it('a build without a bundled wheel says how to configure the server', async () => {
    const r = await resolveServer(input(), probes({ versions: { python3: 'Python 3.12.0' } }));
    expect(r.kind === 'error' && r.message).toContain('no bundled language server');
  });
});

describe('nothing of the working directory is imported', () => {
  it('every -m and -c the extension runs comes after -P', () => {
    const lines = [SERVER_ARGS, IMPORT_PROBE_ARGS, ...bootstrapSteps(['py', '-3.12'], 'C:\\v', 'C:\\v\\Scripts\\python.exe', 'w.whl')];
    for (const line of lines) {
      const at = line.findIndex((a) => a === '-m' || a === '-c');
      expect(at).toBeGreaterThan(0);
      expect(line.slice(0, at)).toContain('-P');
    }
    expect(IMPORT_PROBE_ARGS).toEqual(['-P', '-c', 'import snowauth']);
  });

  it('settingPath: relative paths with a separator are the workspace folder\'s, bare names are looked up on PATH', () => {
    expect(settingPath('.venv/bin/python', ['/ws', '/other'], 'linux')).toBe('/ws/.venv/bin/python');
    expect(settingPath('python3', ['/ws'], 'linux')).toBe('python3');
    expect(settingPath('/usr/bin/python3', ['/ws'], 'linux')).toBe('/usr/bin/python3');
    expect(settingPath('.venv/bin/python', [], 'linux')).toBe('.venv/bin/python');
    expect(settingPath('.venv\\Scripts\\python.exe', ['C:\\ws'], 'win32')).toBe('C:\\ws\\.venv\\Scripts\\python.exe');
    expect(settingPath('py', ['C:\\ws'], 'win32')).toBe('py');
  });
});

describe('the bundle of a platform\'s .vsix', () => {
  it('is run by the newest Python on PATH it has a build for, isolated and without site-packages', async () => {
    const p = probes({
      wheel: WHEEL,
      bundle: LINUX_X64,
      versions: { 'python3.13': 'Python 3.13.1', 'python3.12': 'Python 3.12.3' },
      bundleRuns: ['python3.13', 'python3.12'],
    });
    const r = await resolveServer(input(), p);
    expect(r).toEqual({
      kind: 'launch',
      launch: { command: 'python3.13', args: ['-I', '-S', START, 'lsp'], source: 'bundled' },
    });
    expect(p.calls).toContain(`bundle python3.13 ${START}`);
    expect(p.calls.some((c) => c.startsWith('import'))).toBe(false);
  });

  it('keeps the py launcher\'s version argument before the flags on Windows', () => {
    expect(bundleArgs('C:\\ext\\bundled\\start.py')).toEqual(['-I', '-S', 'C:\\ext\\bundled\\start.py', 'lsp']);
  });

  it('comes after both settings and the Python extension\'s interpreter that has snowauth', async () => {
    const p = probes({
      bundle: LINUX_X64,
      pythonExt: '/env/bin/python',
      versions: { '/env/bin/python': 'Python 3.12.0', python3: 'Python 3.12.0' },
      importable: ['/env/bin/python'],
      bundleRuns: ['python3'],
    });
    const r = await resolveServer(input(), p);
    expect(r.kind === 'launch' && r.launch.source).toBe('python-extension');
  });

  it('skips a Python it has no build for and one whose check fails', async () => {
    const p = probes({
      wheel: WHEEL,
      bundle: { ...LINUX_X64, pythons: ['3.12'] },
      versions: { 'python3.13': 'Python 3.13.1', 'python3.12': 'Python 3.12.3', python3: 'Python 3.12.3' },
      bundleRuns: ['python3'],
    });
    const r = await resolveServer(input(), p);
    expect(r).toEqual({ kind: 'launch', launch: { command: 'python3', args: ['-I', '-S', START, 'lsp'], source: 'bundled' } });
    expect(p.calls).not.toContain(`bundle python3.13 ${START}`);
    expect(p.calls).toContain(`bundle python3.12 ${START}`);
  });

  it('falls back to the private venv, saying why, when no Python on PATH has a build', async () => {
    const p = probes({ wheel: WHEEL, bundle: LINUX_X64, versions: { python3: 'Python 3.15.0' } });
    const r = await resolveServer(input(), p);
    expect(r.kind).toBe('bootstrap');
    if (r.kind !== 'bootstrap') return;
    expect(r.plan.basePython).toEqual(['python3']);
    expect(r.plan.why).toBe(
      'SnowAuth bundles its language server for Python 3.11, 3.12, 3.13, 3.14 on linux-x64, and found python3 3.15.0: ' +
        'its dependencies come from PyPI.',
    );
    expect(p.calls.filter((c) => c === 'version python3')).toHaveLength(1);
  });

  it('falls back to the private venv on another platform', async () => {
    const r = await resolveServer(input({ arch: 'arm64' }), probes({ wheel: WHEEL, bundle: LINUX_X64, versions: { python3: 'Python 3.12.0' } }));
    expect(r.kind === 'bootstrap' && r.plan.why).toBe(
      'This SnowAuth build bundles the language server for linux-x64, not linux-arm64: its dependencies come from PyPI.',
    );
  });

  it('the universal .vsix says it has no bundled libraries', async () => {
    const r = await resolveServer(input(), probes({ wheel: WHEEL, versions: { python3: 'Python 3.12.0' } }));
    expect(r.kind === 'bootstrap' && r.plan.why).toContain("universal build, without bundled libraries");
  });

  it('reads bundle.json, refusing anything else', () => {
    expect(parseBundleManifest(JSON.stringify({ ...LINUX_X64, packages: [] }))).toEqual(LINUX_X64);
    expect(parseBundleManifest('{"target": "linux-x64"}')).toBeUndefined();
    expect(parseBundleManifest('not json')).toBeUndefined();
    expect(parseBundleManifest(JSON.stringify({ ...LINUX_X64, pythons: [] }))).toBeUndefined();
    expect(parseBundleManifest(undefined)).toBeUndefined();
  });
});
