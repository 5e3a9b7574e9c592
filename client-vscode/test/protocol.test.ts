import { describe, expect, it } from 'vitest';
import { type ConnectionInfo, NETWORK_COMMANDS, connectionAt, connectionForStatus, declareCapabilities } from '../src/protocol';

function conn(name: string, start: number, end: number, isDefault = false): ConnectionInfo {
  return {
    name,
    range: { start: { line: start, character: 0 }, end: { line: end, character: 10 } },
    selectionRange: { start: { line: start, character: 0 }, end: { line: start, character: 10 } },
    isDefault,
    token: null,
  };
}

describe('connectionAt', () => {
  const list = [conn('dev', 2, 8), conn('prod', 10, 14, true)];
  it('finds the connection whose range holds the cursor', () => {
    expect(connectionAt(list, { line: 2, character: 0 })?.name).toBe('dev');
    expect(connectionAt(list, { line: 8, character: 10 })?.name).toBe('dev');
    expect(connectionAt(list, { line: 12, character: 3 })?.name).toBe('prod');
    expect(connectionAt(list, { line: 9, character: 0 })).toBeUndefined();
    expect(connectionAt(list, { line: 8, character: 11 })).toBeUndefined();
  });
  it('prefers the innermost range', () => {
    expect(connectionAt([conn('outer', 0, 20), conn('inner', 5, 6)], { line: 5, character: 1 })?.name).toBe('inner');
  });
  it('the status bar falls back to the default, then to the only connection', () => {
    expect(connectionForStatus(list, { line: 0, character: 0 })?.name).toBe('prod');
    expect(connectionForStatus([conn('solo', 3, 4)], { line: 0, character: 0 })?.name).toBe('solo');
    expect(connectionForStatus([conn('a', 3, 4), conn('b', 5, 6)], { line: 0, character: 0 })).toBeUndefined();
  });
});

describe('declareCapabilities', () => {
  it('tells the server that the extension shows results itself and takes failure actions', () => {
    const caps: { experimental?: unknown } = { experimental: { other: 1, snowauth: { mine: true } } };
    declareCapabilities(caps);
    expect(caps.experimental).toEqual({
      other: 1,
      snowauth: { mine: true, promptSecret: true, successMessages: true, messageActions: true },
    });
  });
});

describe('NETWORK_COMMANDS', () => {
  it('Register OAuth Client and Diagnose Connection send credentials: restricted mode refuses them like fetch', () => {
    for (const id of ['snowauth.fetchToken', 'snowauth.registerClient', 'snowauth.diagnoseConnection']) {
      expect(NETWORK_COMMANDS.has(id)).toBe(true);
    }
  });
});
