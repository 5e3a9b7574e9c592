/**
 * `snowauth/promptSecret`: the server asks for a `${prompt}` value at fetch time. The user answers in a
 * password box; a toggle button on the box offers to remember the answer in VS Code's SecretStorage
 * (keyed by connection file + connection + key), which then answers next time without asking.
 *
 * A one-time answer (`once`: a pasted authorization code, an admin's credentials for Register OAuth Client) is
 * always asked: never answered from SecretStorage, never remembered, and its box has no remember toggle.
 * `password: false` (an admin's user name) asks in a plain box that shows what is typed; such an answer is not
 * secret. `prompt` is the box's prompt (what to do), instead of "<key> for connection <name>".
 *
 * The file is the one the request names (`uri`): several commands may run at once, so the file of "the
 * command running now" would let one file's prompt be answered with another file's remembered secret. A
 * request without a `uri` (an older server) is asked every time and never remembered.
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

  /** The answers handed to the server in this session, so the protocol trace can redact them. */
  private readonly given = new Set<string>();

  answers(): Iterable<string> {
    return this.given;
  }

  async handle(params: PromptSecretParams): Promise<PromptSecretResult> {
    const file = typeof params.uri === 'string' && params.uri ? params.uri : undefined;
    const once = params.once === true;
    const id = file === undefined || once ? undefined : secretKey(file, params.connection, params.key);
    const stored = id === undefined ? undefined : await this.context.secrets.get(id);
    if (stored !== undefined) {
      this.log.info(`promptSecret: answered ${params.connection}.${params.key} from secret storage`);
      this.given.add(stored);
      return { value: stored };
    }
    const answer = await ask(params, id !== undefined);
    if (answer === undefined) {
      this.log.info(`promptSecret: ${params.connection}.${params.key} cancelled`);
      return { value: null };
    }
    if (params.password === false) return { value: answer.value }; // not secret (a user name): nothing to redact
    if (answer.remember && id !== undefined) {
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

/** The input box (masked unless `password` is false); with `canRemember`, its toggle button to remember the answer. */
function ask(params: PromptSecretParams, canRemember: boolean): Promise<Answer | undefined> {
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
    const basePrompt = params.prompt || `${params.key} for connection "${params.connection}"`;
    const render = (): void => {
      box.buttons = canRemember ? [remember ? rememberOn : rememberOff] : [];
      box.prompt = remember ? `${basePrompt}, remembered in VS Code secret storage` : basePrompt;
    };
    box.title = params.title || `SnowAuth: ${params.key} for ${params.connection}`;
    box.password = params.password !== false;
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
