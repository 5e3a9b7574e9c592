import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { authorizationHeader, curlLine, parseTokenArgs, resolvePath, shellQuote } from '../src/tokenUse';

const FOLDERS = [
  { name: 'app', fsPath: '/home/me/app' },
  { name: 'infra', fsPath: '/home/me/infra' },
];

describe('the Authorization header and the curl line', () => {
  it('puts Bearer before the token', () => {
    expect(authorizationHeader('abc.DEF-123')).toBe('Bearer abc.DEF-123');
  });

  it('writes a curl line for the Table API with the header, without a trailing slash doubling', () => {
    expect(curlLine('https://dev12345.service-now.com/', 'tok.en_1')).toBe(
      "curl -H 'Authorization: Bearer tok.en_1' 'https://dev12345.service-now.com/api/now/table/sys_user?sysparm_limit=1'",
    );
  });

  it('quotes a token holding a quote so that a shell reads it back unchanged', () => {
    const token = `it's$(touch x)"\`a`;
    expect(shellQuote(token)).toBe(`'it'\\''s$(touch x)"\`a'`);
    // a real shell: printf the quoted words back
    const line = curlLine('http://127.0.0.1:8080', token).replace(/^curl -H /, 'printf "%s\\n" ');
    expect(execFileSync('sh', ['-c', line], { encoding: 'utf8' })).toBe(
      `Authorization: Bearer ${token}\nhttp://127.0.0.1:8080/api/now/table/sys_user?sysparm_limit=1\n`,
    );
  });
});

describe('the arguments of snowauth.accessToken', () => {
  it('takes none, or a launch configuration, as "the active editor or a picker"', () => {
    expect(parseTokenArgs(undefined, FOLDERS)).toEqual({ kind: 'ok', args: {} });
    expect(parseTokenArgs({ type: 'node', request: 'launch', name: 'Run' }, FOLDERS)).toEqual({ kind: 'ok', args: {} });
  });

  it('takes a file and a connection, resolving ${workspaceFolder} when VS Code left it', () => {
    expect(parseTokenArgs({ file: '${workspaceFolder}/dev.snowauth.toml', connection: 'dev' }, FOLDERS)).toEqual({
      kind: 'ok',
      args: { file: '/home/me/app/dev.snowauth.toml', connection: 'dev' },
    });
    expect(parseTokenArgs({ file: '/abs/x.snowauth.toml' }, FOLDERS)).toEqual({ kind: 'ok', args: { file: '/abs/x.snowauth.toml' } });
    expect(parseTokenArgs({ connection: 'prod' }, FOLDERS)).toEqual({ kind: 'ok', args: { connection: 'prod' } });
  });

  it('resolves named folders and relative paths, and refuses a folder that is not open', () => {
    expect(resolvePath('${workspaceFolder:infra}/c.snowauth.toml', FOLDERS)).toBe('/home/me/infra/c.snowauth.toml');
    expect(resolvePath('conf/c.snowauth.toml', FOLDERS)).toBe('/home/me/app/conf/c.snowauth.toml');
    expect(resolvePath('${workspaceFolder:nope}/c.snowauth.toml', FOLDERS)).toBeUndefined();
    expect(resolvePath('c.snowauth.toml', [])).toBeUndefined();
    expect(parseTokenArgs({ file: '${workspaceFolder:nope}/c.toml' }, FOLDERS).kind).toBe('error');
  });

  it('refuses values of the wrong type', () => {
    expect(parseTokenArgs({ file: 3 }, FOLDERS)).toEqual({ kind: 'error', message: '"file" must be a path' });
    expect(parseTokenArgs({ connection: ['dev'] }, FOLDERS)).toEqual({
      kind: 'error',
      message: '"connection" must be a connection name',
    });
  });
});
