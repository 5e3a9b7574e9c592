import { beforeEach, describe, expect, it, vi } from 'vitest';

// The editor, as far as Insert Token reaches: what it asks (quick picks) and what it sends.
const fake = vi.hoisted(() => {
  const state = {
    picks: [] as Array<{ title?: string; items: Array<{ label: string; description?: string }> }>,
    answers: [] as Array<(items: Array<{ label: string }>) => unknown>,
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    sent: [] as Array<{ method: string; params: unknown }>,
    connections: [] as unknown[],
    fail: undefined as Error | undefined,
    logged: [] as string[],
  };
  const uri = (s: string) => ({ toString: () => s, fsPath: s.replace('file://', '') });
  return { state, uri };
});

vi.mock('vscode', () => ({
  window: {
    activeTextEditor: {
      document: { uri: fake.uri('file:///ws/request.http'), languageId: 'http' },
      selection: { active: { line: 2, character: 0 } },
    },
    showQuickPick: (items: Array<{ label: string }>, options: { title?: string }) => {
      fake.state.picks.push({ title: options.title, items });
      const answer = fake.state.answers.shift();
      return Promise.resolve(answer ? answer(items) : undefined);
    },
    showInformationMessage: () => Promise.resolve(undefined),
    showWarningMessage: () => Promise.resolve(undefined),
    setStatusBarMessage: () => undefined,
  },
  workspace: {
    isTrusted: true,
    textDocuments: [],
    findFiles: () => Promise.resolve([fake.uri('file:///ws/team.snowauth.toml')]),
    asRelativePath: (u: { fsPath: string }) => u.fsPath.replace('/ws/', ''),
  },
  commands: {
    registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
      fake.state.commands.set(id, run);
      return { dispose: () => undefined };
    },
    executeCommand: () => Promise.resolve(undefined),
  },
}));

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
import { ConnectionService } from '../src/connections';
import { registerCommands, type Services } from '../src/commands';

function connection(name: string, isDefault: boolean, line: number) {
  const range = { start: { line, character: 0 }, end: { line: line + 5, character: 0 } };
  return { name, range, selectionRange: range, isDefault, token: { expiresAt: null, hasRefreshToken: true } };
}

function setUp(): void {
  const client = {
    isRunning: () => true,
    sendRequest: (method: unknown, params: unknown) => {
      const name = typeof method === 'string' ? method : 'workspace/executeCommand';
      fake.state.sent.push({ method: name, params });
      if (name === 'snowauth/listConnections') return Promise.resolve({ connections: fake.state.connections });
      if (fake.state.fail) return Promise.reject(fake.state.fail);
      return Promise.resolve({ connection: 'dev', inserted: true });
    },
  };
  const note = (level: string) => (text: string) => void fake.state.logged.push(`${level} ${text}`);
  const log = { warn: note('warn'), info: note('info'), debug: note('debug'), show: () => undefined };
  const services = {
    log,
    server: { running: client },
    connections: new ConnectionService(() => client as never, log as never),
    secrets: {},
    status: () => undefined,
  } as unknown as Services;
  registerCommands({ subscriptions: [] } as never, services);
}

async function insert(): Promise<void> {
  await fake.state.commands.get('snowauth.ui.insertToken')?.();
}

function executed(): unknown[] {
  return fake.state.sent.filter((s) => s.method === 'workspace/executeCommand').map((s) => s.params);
}

describe('Insert Token', () => {
  beforeEach(() => {
    fake.state.picks = [];
    fake.state.answers = [];
    fake.state.sent = [];
    fake.state.fail = undefined;
    fake.state.logged = [];
    fake.state.commands.clear();
    setUp();
  });

  it('asks only what to insert when the workspace has one connection', async () => {
    fake.state.connections = [connection('dev', false, 0)];
    fake.state.answers = [(items) => items[1]];
    await insert();
    expect(fake.state.picks.map((p) => p.title)).toEqual(['SnowAuth: Insert Token — dev']);
    expect(executed()).toEqual([
      {
        command: 'snowauth.insertToken',
        arguments: [
          {
            uri: 'file:///ws/team.snowauth.toml',
            connection: 'dev',
            target: { uri: 'file:///ws/request.http', position: { line: 2, character: 0 } },
            format: 'header',
          },
        ],
      },
    ]);
  });

  it('asks for the connection when there are several, and labels only the named default', async () => {
    fake.state.connections = [connection('dev', false, 0), connection('prod', true, 8)];
    fake.state.answers = [(items) => items[0], (items) => items[0]];
    await insert();
    expect(fake.state.picks).toHaveLength(2);
    const which = fake.state.picks[0];
    expect(which?.items.map((i) => [i.label, i.description])).toEqual([
      ['dev', 'team.snowauth.toml'],
      ['prod', 'team.snowauth.toml (default)'],
    ]);
    expect(executed()).toHaveLength(1);
  });

  it('logs a failure the server reported once (the server logged it), and any other failure as a warning', async () => {
    fake.state.connections = [connection('dev', false, 0)];
    fake.state.fail = new ResponseError(-32803, 'http://127.0.0.1 rejected the password grant. Either …');
    fake.state.answers = [(items) => items[0]];
    await insert();
    expect(fake.state.logged).toEqual(['debug snowauth.insertToken failed (reported by the server)']);
    fake.state.logged = [];
    fake.state.fail = new Error('Connection got disposed.');
    fake.state.answers = [(items) => items[0]];
    await insert();
    expect(fake.state.logged).toEqual(['warn snowauth.insertToken failed: Connection got disposed.']);
  });
});
