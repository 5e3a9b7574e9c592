/**
 * The text of a new connection file (SnowAuth: New Connection File): one connection whose keys follow the model
 * (docs/reference.md), secrets as `${env:SNOW_<NAME>_…}` or `${prompt}` references, never a literal.
 * No `vscode` import: unit tests load this module.
 */

export type SignIn = 'sdk' | 'password' | 'client_credentials' | 'authorization_code' | 'jwt_bearer' | 'register';

export interface SignInChoice {
  signIn: SignIn;
  label: string;
  detail: string;
}

/** The quick pick "How do you sign in?", in its order. */
export const SIGN_IN_CHOICES: readonly SignInChoice[] = [
  {
    signIn: 'sdk',
    label: 'Sign in with the ServiceNow SDK client — no setup in the instance',
    detail: 'client = "servicenow-sdk": your browser signs in, you paste the code the instance shows',
  },
  { signIn: 'password', label: 'Password grant', detail: 'a ServiceNow user and its password, with your OAuth client' },
  { signIn: 'client_credentials', label: 'Client credentials', detail: "the OAuth client alone, acting as its application user" },
  { signIn: 'authorization_code', label: 'Authorization code (browser)', detail: 'your browser signs in; the code comes back to this machine' },
  { signIn: 'jwt_bearer', label: 'JWT bearer', detail: 'a JWT signed with your private key' },
  {
    signIn: 'register',
    label: 'Register a new OAuth client on the instance',
    detail: 'no client yet: Register OAuth Client creates one (as an admin) and writes its client_id',
  },
];

/** The default file name offered. */
export const DEFAULT_FILE_NAME = 'servicenow.snowauth.toml';

/** Does this sign-in need a `client_id` typed in? */
export function needsClientId(signIn: SignIn): boolean {
  return signIn !== 'sdk' && signIn !== 'register';
}

/** Does this sign-in need a ServiceNow user name (`username`, or the JWT's `jwt_subject`)? */
export function needsUser(signIn: SignIn): boolean {
  return signIn === 'password' || signIn === 'jwt_bearer' || signIn === 'register';
}

const INSTANCE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `value` is no instance (undefined: it is one): a bare name like `dev12345`, or an https:// URL (http:// on loopback). */
export function instanceProblem(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'The instance: a name like dev12345, or its address (https://…)';
  if (INSTANCE_NAME.test(v)) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'A name like dev12345 (letters, digits, -), or an address starting with https://';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return 'The address must start with https:// (http:// only for this machine)';
}

/** Why `name` is not a file name to create (undefined: it is one). Existence is checked by the caller. */
export function fileNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n.endsWith('.snowauth.toml') || n === '.snowauth.toml') return 'The name must end with .snowauth.toml';
  if (/[\\/:*?"<>|\0]/.test(n) || n.startsWith('.')) return 'A file name, without a folder';
  return undefined;
}

/** The connection's name: the instance's (`dev12345`, the first label of a host; `local` for a loopback address). */
export function connectionName(instance: string): string {
  const v = instance.trim();
  let name = v;
  if (!INSTANCE_NAME.test(v)) {
    try {
      const host = new URL(v).hostname;
      name = /^(?:127\.0\.0\.1|localhost|\[::1\])$/.test(host) ? 'local' : (host.split('.')[0] ?? 'instance');
    } catch {
      name = 'instance';
    }
  }
  const clean = name.replace(/[^A-Za-z0-9_-]/g, '_').toLowerCase();
  return clean || 'instance';
}

/** `SNOW_<NAME>_<WHAT>`: an environment variable of this connection (the name in capitals, other characters as `_`). */
export function envName(connection: string, what: string): string {
  return `SNOW_${connection.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_${what}`;
}

export interface NewConnection {
  instance: string;
  signIn: SignIn;
  clientId?: string;
  user?: string;
}

/** A TOML basic string (what a person types may hold quotes or backslashes). */
function str(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The file's text. */
export function connectionFileText(c: NewConnection): string {
  const name = connectionName(c.instance);
  const secret = str(`\${env:${envName(name, 'CLIENT_SECRET')}}`);
  const lines = [`default = ${str(name)}`, '', `[connections.${name}]`, `instance = ${str(c.instance.trim())}`];
  const clientId = `client_id = ${str((c.clientId ?? '').trim())}`;
  const user = str((c.user ?? '').trim());
  switch (c.signIn) {
    case 'sdk':
      lines.push('client = "servicenow-sdk"                       # Fetch Token signs in in the browser');
      break;
    case 'password':
      lines.push('grant_type = "password"', clientId, `client_secret = ${secret}`, `username = ${user}`, 'password = "${prompt}"                          # asked when you fetch');
      break;
    case 'client_credentials':
      lines.push('grant_type = "client_credentials"', clientId, `client_secret = ${secret}`);
      break;
    case 'authorization_code':
      lines.push('grant_type = "authorization_code"', clientId, 'redirect_uri = "http://127.0.0.1:53682/callback"  # as registered on the client');
      break;
    case 'jwt_bearer':
      lines.push('grant_type = "jwt_bearer"', clientId, `client_secret = ${secret}`, 'jwt_key_file = "jwt-private-key.pem"             # relative to this folder', `jwt_subject = ${user}`);
      break;
    case 'register':
      lines.push('grant_type = "password"', `username = ${user}`, 'password = "${prompt}"                          # asked when you fetch');
      break;
  }
  const header = [
    '# A ServiceNow OAuth connection (SnowAuth). Hover a key for what it means; Ctrl+Space offers the others.',
    '# Secrets stay out of this file: ${env:NAME} reads the environment or the .env beside it, ${prompt} asks.',
  ];
  if (c.signIn === 'register') header.push('# No client_id yet: Register OAuth Client (the lens above the connection) creates the client and writes it.');
  return `${[...header, ...lines].join('\n')}\n`;
}
