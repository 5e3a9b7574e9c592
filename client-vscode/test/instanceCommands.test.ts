import { beforeEach, describe, expect, it, vi } from 'vitest';

// The editor, as far as Register OAuth Client and Diagnose Connection reach: notifications, the report's
// document, what is sent to the server.
const fake = vi.hoisted(() => {
  const state = {
    trusted: true,
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    sent: [] as Array<{ command: string; arguments: unknown[] }>,
    results: [] as unknown[],
    fail: undefined as Error | undefined,
    notes: [] as string[],
    shown: [] as Array<{ uri: string; viewColumn: unknown }>,
    visible: [] as Array<{ document: { uri: { toString(): string } }; viewColumn: number }>,
    provider: undefined as undefined | { provideTextDocumentContent(uri: unknown): string },
    changed: [] as string[],
    logged: [] as string[],
  };
  return { state };
});

vi.mock('vscode', () => {
  class EventEmitter<T> {
    private listeners: Array<(e: T) => void> = [];
    event = (f: (e: T) => void) => void this.listeners.push(f);
    fire(e: T): void {
      for (const f of this.listeners) f(e);
    }
    dispose(): void {
      this.listeners = [];
    }
  }
  const uri = (s: string) => ({ toString: () => s });
  return {
    EventEmitter,
    ViewColumn: { Beside: -2 },
    Uri: { from: (c: { scheme: string; path: string; query: string }) => uri(`${c.scheme}:${c.path}?${c.query}`) },
    window: {
      activeTextEditor: undefined,
      get visibleTextEditors() {
        return fake.state.visible;
      },
      showInformationMessage: (m: string) => Promise.resolve(void fake.state.notes.push(`info ${m}`)),
      showWarningMessage: (m: string) => Promise.resolve(void fake.state.notes.push(`warning ${m}`)),
      showTextDocument: (doc: { uri: { toString(): string } }, options: { viewColumn: unknown }) => {
        fake.state.shown.push({ uri: doc.uri.toString(), viewColumn: options.viewColumn });
        return Promise.resolve(undefined);
      },
      setStatusBarMessage: () => undefined,
    },
    workspace: {
      get isTrusted() {
        return fake.state.trusted;
      },
      registerTextDocumentContentProvider: (
        _scheme: string,
        provider: { provideTextDocumentContent(uri: unknown): string; onDidChange(f: (u: { toString(): string }) => void): void },
      ) => {
        fake.state.provider = provider;
        provider.onDidChange((u) => void fake.state.changed.push(u.toString()));
        return { dispose: () => undefined };
      },
      openTextDocument: (u: unknown) => Promise.resolve({ uri: u, languageId: 'markdown' }),
      asRelativePath: (p: string) => p.replace('/ws/', ''),
    },
    languages: { setTextDocumentLanguage: (doc: unknown) => Promise.resolve(doc) },
    commands: {
      registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
        fake.state.commands.set(id, run);
        return { dispose: () => undefined };
      },
      executeCommand: () => Promise.resolve(undefined),
    },
  };
});

vi.mock('vscode-languageclient/node', () => ({
  ExecuteCommandRequest: { type: 'workspace/executeCommand' },
  ResponseError: class ResponseError extends Error {
    constructor(
      readonly code: number,
      message: string,
    ) {
      super(message);
    }
  },
}));

import { ResponseError } from 'vscode-languageclient/node';
import { commandMiddleware, registerCommands, type Services } from '../src/commands';
import { ReportDocuments } from '../src/report';

const FILE = 'file:///ws/dev.snowauth.toml';
const TARGET = { uri: FILE, connection: 'dev' };
const REPORT_URI = `snowauth-report:/Diagnose dev.md?${FILE}`;

function diagnosis(ok: boolean, report: string) {
  const checks = ok
    ? [{ id: 'dns', title: 'The host name resolves', status: 'pass', message: 'It resolves.' }]
    : [
        { id: 'dns', title: 'The host name resolves', status: 'pass', message: 'It resolves.' },
        { id: 'oauth_active', title: 'OAuth is active on the instance', status: 'fail', message: 'Set `x` to true.' },
      ];
  return { connection: 'dev', ok, checks, report };
}

let services: Services;

function setUp(): void {
  const client = {
    isRunning: () => true,
    sendRequest: (_type: unknown, params: { command: string; arguments: unknown[] }) => {
      fake.state.sent.push(params);
      if (fake.state.fail) return Promise.reject(fake.state.fail);
      return Promise.resolve(fake.state.results.shift());
    },
  };
  const note = (level: string) => (text: string) => void fake.state.logged.push(`${level} ${text}`);
  services = {
    log: { warn: note('warn'), info: note('info'), debug: note('debug'), show: () => undefined },
    server: { running: client },
    connections: {},
    secrets: {},
    status: () => undefined,
    reports: new ReportDocuments(),
  } as unknown as Services;
  registerCommands({ subscriptions: [] } as never, services);
}

async function run(id: string, arg: unknown = TARGET): Promise<unknown> {
  return await fake.state.commands.get(id)?.(arg);
}

beforeEach(() => {
  Object.assign(fake.state, { trusted: true, sent: [], results: [], fail: undefined, notes: [], shown: [], visible: [], changed: [], logged: [] });
  fake.state.commands.clear();
  setUp();
});

describe('Diagnose Connection', () => {
  it("sends the connection, opens the report as a read-only document beside the file, and says all good", async () => {
    fake.state.results = [diagnosis(true, '# dev\n\nAll good.\n')];
    await run('snowauth.ui.diagnoseConnection');
    expect(fake.state.sent).toEqual([{ command: 'snowauth.diagnoseConnection', arguments: [TARGET] }]);
    expect(fake.state.shown).toEqual([{ uri: REPORT_URI, viewColumn: -2 }]);
    expect(fake.state.provider?.provideTextDocumentContent({ toString: () => REPORT_URI })).toBe('# dev\n\nAll good.\n');
    expect(fake.state.notes).toEqual(['info Diagnose dev: all good.']);
  });

  it('a failed check is a warning; a second run replaces the text of the report where it is shown', async () => {
    fake.state.results = [diagnosis(true, 'first'), diagnosis(false, 'second')];
    await run('snowauth.ui.diagnoseConnection');
    fake.state.visible = [{ document: { uri: { toString: () => REPORT_URI } }, viewColumn: 2 }];
    await run('snowauth.ui.diagnoseConnection');
    expect(fake.state.shown.map((s) => s.viewColumn)).toEqual([-2, 2]);
    expect(fake.state.changed).toEqual([REPORT_URI, REPORT_URI]);
    expect(fake.state.provider?.provideTextDocumentContent({ toString: () => REPORT_URI })).toBe('second');
    expect(fake.state.notes[1]).toBe('warning Diagnose dev: OAuth is active on the instance failed — Set x to true.');
  });

  it("two files' connections of the same name get a report each", async () => {
    fake.state.results = [diagnosis(true, 'of dev'), diagnosis(true, 'of other')];
    await run('snowauth.ui.diagnoseConnection');
    await run('snowauth.ui.diagnoseConnection', { uri: 'file:///ws/other.snowauth.toml', connection: 'dev' });
    const other = 'snowauth-report:/Diagnose dev.md?file:///ws/other.snowauth.toml';
    expect(fake.state.shown.map((s) => s.uri)).toEqual([REPORT_URI, other]);
    expect(fake.state.provider?.provideTextDocumentContent({ toString: () => REPORT_URI })).toBe('of dev');
    expect(fake.state.provider?.provideTextDocumentContent({ toString: () => other })).toBe('of other');
  });
});

describe('Register OAuth Client', () => {
  it('names the .env relative to the workspace, never the secret', async () => {
    fake.state.results = [{ connection: 'dev', client_id: 'c1', sys_id: 's1', secret_file: '/ws/.env', fetched: true }];
    await run('snowauth.ui.registerClient');
    expect(fake.state.sent).toEqual([{ command: 'snowauth.registerClient', arguments: [TARGET] }]);
    expect(fake.state.notes).toEqual(['info Registered dev: client_id written, secret in .env. Token fetched.']);
  });

  it('refuses in an untrusted workspace without sending anything', async () => {
    fake.state.trusted = false;
    await run('snowauth.ui.registerClient');
    await run('snowauth.ui.diagnoseConnection');
    expect(fake.state.sent).toEqual([]);
    expect(fake.state.notes).toEqual([
      'warning SnowAuth does not send credentials from an untrusted workspace. Trust the workspace to fetch tokens.',
      'warning SnowAuth does not send credentials from an untrusted workspace. Trust the workspace to fetch tokens.',
    ]);
  });
});

describe("the code lenses' commands (the middleware)", () => {
  const next = vi.fn(() => Promise.reject(new Error('vscode-languageclient would log this failure as an [error]')));

  it("sends Register OAuth Client itself, as the palette does, and shows the result's message", async () => {
    fake.state.results = [{ connection: 'dev', client_id: 'c1', sys_id: 's1', secret_file: null, fetched: false }];
    const result: unknown = await commandMiddleware(services).executeCommand?.('snowauth.registerClient', [TARGET], next);
    expect(next).not.toHaveBeenCalled();
    expect(fake.state.sent).toEqual([{ command: 'snowauth.registerClient', arguments: [TARGET] }]);
    expect(result).toMatchObject({ client_id: 'c1' });
    expect(fake.state.notes).toEqual(['info Registered dev: client_id written, no secret (a public client).']);
  });

  it("opens Diagnose Connection's report for the lens's file", async () => {
    fake.state.results = [diagnosis(true, 'report')];
    await commandMiddleware(services).executeCommand?.('snowauth.diagnoseConnection', [TARGET], next);
    expect(fake.state.shown).toEqual([{ uri: REPORT_URI, viewColumn: -2 }]);
  });

  it('a failure the server reported is logged once, at debug level, and not thrown again', async () => {
    fake.state.fail = new ResponseError(-32803, 'http://127.0.0.1 refused the admin credentials (HTTP 401)');
    const result: unknown = await commandMiddleware(services).executeCommand?.('snowauth.registerClient', [TARGET], next);
    expect(result).toBeUndefined();
    expect(next).not.toHaveBeenCalled();
    expect(fake.state.logged).toEqual(['debug snowauth.registerClient failed (reported by the server)']);
    expect(fake.state.notes).toEqual([]);
  });

  it('refuses in an untrusted workspace', async () => {
    fake.state.trusted = false;
    expect(await commandMiddleware(services).executeCommand?.('snowauth.diagnoseConnection', [TARGET], next)).toBeUndefined();
    expect(fake.state.sent).toEqual([]);
  });
});
