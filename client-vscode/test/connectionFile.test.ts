import { describe, expect, it } from 'vitest';
import {
  SIGN_IN_CHOICES,
  connectionFileText,
  connectionName,
  envName,
  fileNameProblem,
  instanceProblem,
  needsClientId,
  needsUser,
} from '../src/connectionFile';

/** `key = value` lines of the text's one connection table (comments dropped). */
function keys(text: string): Map<string, string> {
  const body = text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('[connections.')) + 1);
  return new Map(
    body
      .filter((l) => /^\w+ = /.test(l))
      .map((l) => {
        const [k, v] = l.split(' = ', 2) as [string, string];
        return [k, v.replace(/\s+#.*$/, '')];
      }),
  );
}

describe('New Connection File', () => {
  it('writes the SDK client connection: the instance and client, nothing to set up', () => {
    expect(connectionFileText({ instance: 'dev12345', signIn: 'sdk' })).toBe(
      [
        '# A ServiceNow OAuth connection (SnowAuth). Hover a key for what it means; Ctrl+Space offers the others.',
        '# Secrets stay out of this file: ${env:NAME} reads the environment or the .env beside it, ${prompt} asks.',
        'default = "dev12345"',
        '',
        '[connections.dev12345]',
        'instance = "dev12345"',
        'client = "servicenow-sdk"                       # Fetch Token signs in in the browser',
        '',
      ].join('\n'),
    );
  });

  it('writes each grant with the keys the model requires, secrets as references', () => {
    const want: Record<string, string[]> = {
      sdk: ['instance', 'client'],
      password: ['instance', 'grant_type', 'client_id', 'client_secret', 'username', 'password'],
      client_credentials: ['instance', 'grant_type', 'client_id', 'client_secret'],
      authorization_code: ['instance', 'grant_type', 'client_id', 'redirect_uri'],
      jwt_bearer: ['instance', 'grant_type', 'client_id', 'client_secret', 'jwt_key_file', 'jwt_subject'],
      register: ['instance', 'grant_type', 'username', 'password'],
    };
    expect(SIGN_IN_CHOICES.map((c) => c.signIn).sort()).toEqual(Object.keys(want).sort());
    for (const { signIn } of SIGN_IN_CHOICES) {
      const text = connectionFileText({ instance: 'https://acme.service-now.com', signIn, clientId: 'abc123', user: 'integration.user' });
      const k = keys(text);
      expect([...k.keys()], signIn).toEqual(want[signIn]);
      expect(text).toContain('[connections.acme]');
      if (k.has('client_secret')) expect(k.get('client_secret')).toBe('"${env:SNOW_ACME_CLIENT_SECRET}"');
      if (k.has('password')) expect(k.get('password')).toBe('"${prompt}"');
      if (k.has('client_id')) expect(k.get('client_id')).toBe('"abc123"');
      expect(needsClientId(signIn)).toBe(k.has('client_id'));
      expect(needsUser(signIn)).toBe(k.has('username') || k.has('jwt_subject'));
    }
    expect(connectionFileText({ instance: 'dev1', signIn: 'register', user: 'u' })).toMatch(/Register OAuth Client/);
  });

  it('quotes what a person typed as a TOML string', () => {
    const k = keys(connectionFileText({ instance: 'dev1', signIn: 'password', clientId: 'a"b\\c', user: 'x\u0085y' }));
    expect(k.get('client_id')).toBe('"a\\"b\\\\c"');
    expect(k.get('username')).toBe('"x\\u0085y"');
  });

  it('names the connection after the instance', () => {
    expect(connectionName('dev12345')).toBe('dev12345');
    expect(connectionName('https://Acme-Prod.service-now.com/')).toBe('acme-prod');
    expect(connectionName('http://127.0.0.1:8080')).toBe('local');
    expect(envName('acme-prod', 'CLIENT_SECRET')).toBe('SNOW_ACME_PROD_CLIENT_SECRET');
  });

  it('accepts an instance name or an https address, http only for this machine', () => {
    for (const ok of ['dev12345', 'https://acme.service-now.com', 'https://snow.example.com:8443/base', 'http://127.0.0.1:5000']) {
      expect(instanceProblem(ok), ok).toBeUndefined();
    }
    for (const bad of ['', 'http://acme.service-now.com', 'ftp://x', 'dev 12345', '-dev']) expect(instanceProblem(bad), bad).toBeTruthy();
  });

  it('accepts a *.snowauth.toml file name without a folder', () => {
    expect(fileNameProblem('servicenow.snowauth.toml')).toBeUndefined();
    for (const bad of ['servicenow.toml', '.snowauth.toml', '../x.snowauth.toml', 'a/b.snowauth.toml', '.hidden.snowauth.toml']) {
      expect(fileNameProblem(bad), bad).toBeTruthy();
    }
  });
});
