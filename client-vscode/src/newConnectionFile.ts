/**
 * SnowAuth: New Connection File — a client command (nothing goes to the server, nothing runs): where, the instance,
 * how to sign in; writes the file (never over an existing one) and opens it. Allowed in an untrusted workspace.
 */
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import {
  DEFAULT_FILE_NAME,
  SIGN_IN_CHOICES,
  type SignIn,
  connectionFileText,
  connectionName,
  fileNameProblem,
  instanceProblem,
  needsClientId,
  needsUser,
} from './connectionFile';

export const NEW_CONNECTION_FILE = 'snowauth.newConnectionFile';
const TITLE = 'SnowAuth: New Connection File';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** The folder: the one the explorer's menu was opened on, the only workspace folder, or one picked. */
async function pickFolder(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) {
    try {
      if ((await vscode.workspace.fs.stat(arg)).type & vscode.FileType.Directory) return arg;
    } catch {
      // not there any more: ask
    }
  }
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0]?.uri;
  if (folders.length > 1) {
    const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Where to create the connection file' });
    return picked?.uri;
  }
  const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: `${TITLE} — folder` });
  return chosen?.[0];
}

async function ask(prompt: string, step: number, options: Partial<vscode.InputBoxOptions> = {}): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({ title: `${TITLE} (${step})`, prompt, ignoreFocusOut: true, ...options });
  return value?.trim();
}

/** Writes `text` to a new file; false when something is there already (a file, a folder, a link: never replaced). */
async function create(uri: vscode.Uri, text: string): Promise<boolean> {
  if (uri.scheme === 'file') {
    try {
      // O_CREAT|O_EXCL: refuses an existing file and does not follow a link at that name; 0600 as the tokens a
      // fetch writes into it (token_store = "file") are the user's alone
      await fs.writeFile(uri.fsPath, text, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }
  if (await exists(uri)) return false;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  return true;
}

export async function newConnectionFile(arg?: unknown): Promise<vscode.Uri | undefined> {
  const folder = await pickFolder(arg);
  if (!folder) return undefined;
  const root = vscode.workspace.getWorkspaceFolder(folder);
  const where = root && root.uri.toString() === folder.toString() ? root.name : vscode.workspace.asRelativePath(folder);
  const fileName = await ask(`The file to create in ${where}`, 1, {
    value: DEFAULT_FILE_NAME,
    valueSelection: [0, DEFAULT_FILE_NAME.length - '.snowauth.toml'.length],
    validateInput: async (v) => fileNameProblem(v) ?? ((await exists(vscode.Uri.joinPath(folder, v.trim()))) ? `${v.trim()} exists already` : undefined),
  });
  if (!fileName) return undefined;
  const instance = await ask('The ServiceNow instance: a name like dev12345, or its address (https://…)', 2, {
    placeHolder: 'dev12345',
    validateInput: instanceProblem,
  });
  if (!instance) return undefined;
  const choice = await vscode.window.showQuickPick(
    SIGN_IN_CHOICES.map((c) => ({ label: c.label, detail: c.detail, signIn: c.signIn })),
    { title: `${TITLE} (3)`, placeHolder: 'How do you sign in?', ignoreFocusOut: true },
  );
  if (!choice) return undefined;
  const signIn: SignIn = choice.signIn;
  let clientId: string | undefined;
  let user: string | undefined;
  if (needsClientId(signIn)) {
    clientId = await ask('The client ID (System OAuth > Application Registry > your record > Client ID)', 4, {
      validateInput: (v) => (v.trim() && !/\s/.test(v.trim()) ? undefined : 'The client ID, without spaces'),
    });
    if (!clientId) return undefined;
  }
  if (needsUser(signIn)) {
    user = await ask('The ServiceNow user to sign in as (its User ID)', needsClientId(signIn) ? 5 : 4, {
      placeHolder: 'integration.user',
      validateInput: (v) => (v.trim() ? undefined : 'The user name'),
    });
    if (!user) return undefined;
  }
  const uri = vscode.Uri.joinPath(folder, fileName);
  const text = connectionFileText({ instance, signIn, clientId, user });
  if (!(await create(uri, text))) {
    void vscode.window.showErrorMessage(`SnowAuth: ${fileName} exists already; it was left as it is.`);
    return undefined;
  }
  await vscode.window.showTextDocument(uri);
  if (signIn === 'register') {
    const connection = connectionName(instance);
    const register = 'Register OAuth Client';
    void vscode.window
      .showInformationMessage(`SnowAuth: ${connection} has no client yet. Register an OAuth client on the instance now?`, register)
      .then((c) => {
        if (c === register) void vscode.commands.executeCommand('snowauth.ui.registerClient', { uri: uri.toString(), connection });
      });
  }
  return uri;
}
