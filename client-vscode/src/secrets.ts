/**
 * `snowauth/promptSecret`: the server asks for a `${prompt}` value at fetch time. The user answers in a
 * password box; a toggle button on the box offers to remember the answer in VS Code's SecretStorage
 * (keyed by connection file + connection + key), which then answers next time without asking.
 */
import * as vscode from 'vscode';
import type { PromptSecretParams, PromptSecretResult } from './protocol';

const INDEX_KEY = 'snowauth.rememberedSecrets';

export function secretKey(fileUri: string, connection: string, key: string): string {
  return `snowauth:${JSON.stringify([fileUri, connection, key])}`;
}

export class SecretPrompter {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /**
   * The file the prompt is for is not in the request's params: the server asks while running a command,
   * so the extension remembers the file of the command it is running (see `withFile`).
   */
  private currentFile: string | undefined;
  /** The answers handed to the server in this session, so the protocol trace can redact them. */
  private readonly given = new Set<string>();

  answers(): Iterable<string> {
    return this.given;
  }

  async withFile<T>(fileUri: string, run: () => Thenable<T>): Promise<T> {
    const previous = this.currentFile;
    this.currentFile = fileUri;
    try {
      return await run();
    } finally {
      this.currentFile = previous;
    }
  }

  async handle(params: PromptSecretParams): Promise<PromptSecretResult> {
    const file = this.currentFile ?? vscode.window.activeTextEditor?.document.uri.toString() ?? '';
    const id = secretKey(file, params.connection, params.key);
    const stored = await this.context.secrets.get(id);
    if (stored !== undefined) {
      this.log.info(`promptSecret: answered ${params.connection}.${params.key} from secret storage`);
      this.given.add(stored);
      return { value: stored };
    }
    const answer = await askPassword(params);
    if (answer === undefined) {
      this.log.info(`promptSecret: ${params.connection}.${params.key} cancelled`);
      return { value: null };
    }
    if (answer.remember) {
      await this.context.secrets.store(id, answer.value);
      const index = new Set(this.context.globalState.get<string[]>(INDEX_KEY, []));
      index.add(id);
      await this.context.globalState.update(INDEX_KEY, [...index]);
      this.log.info(`promptSecret: remembered ${params.connection}.${params.key} in secret storage`);
    }
    this.given.add(answer.value);
    return { value: answer.value };
  }

  /** Deletes every remembered answer; returns how many there were. */
  async forgetAll(): Promise<number> {
    const index = this.context.globalState.get<string[]>(INDEX_KEY, []);
    for (const id of index) await this.context.secrets.delete(id);
    await this.context.globalState.update(INDEX_KEY, []);
    return index.length;
  }
}

interface Answer {
  value: string;
  remember: boolean;
}

function askPassword(params: PromptSecretParams): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    let remember = false;
    const rememberOff: vscode.QuickInputButton = {
      iconPath: new vscode.ThemeIcon('circle-large-outline'),
      tooltip: 'Remember in VS Code secret storage (off: click to turn on)',
    };
    const rememberOn: vscode.QuickInputButton = {
      iconPath: new vscode.ThemeIcon('pass-filled'),
      tooltip: 'Remember in VS Code secret storage (on: click to turn off)',
    };
    const basePrompt = `${params.key} for connection "${params.connection}"`;
    const render = (): void => {
      box.buttons = [remember ? rememberOn : rememberOff];
      box.prompt = remember ? `${basePrompt}, remembered in VS Code secret storage` : basePrompt;
    };
    box.title = params.title || `SnowAuth: ${params.key} for ${params.connection}`;
    box.password = true;
    box.ignoreFocusOut = true;
    box.placeholder = params.key;
    render();
    let done = false;
    const finish = (a: Answer | undefined): void => {
      if (done) return;
      done = true;
      resolve(a);
      box.dispose();
    };
    box.onDidTriggerButton(() => {
      remember = !remember;
      render();
    });
    box.onDidAccept(() => finish({ value: box.value, remember }));
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}
