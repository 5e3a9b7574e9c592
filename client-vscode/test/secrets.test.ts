import { afterEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { SecretPrompter, secretKey } from '../src/secrets';

const A = 'file:///ws/a.snowauth.toml';
const B = 'file:///ws/b.snowauth.toml';
const ASK = { connection: 'dev', key: 'password', title: 'SnowAuth: password for connection “dev”' };

function context(secrets: Map<string, string>): vscode.ExtensionContext {
  const state = new Map<string, unknown>();
  return {
    secrets: {
      get: (k: string) => Promise.resolve(secrets.get(k)),
      store: (k: string, v: string) => Promise.resolve(void secrets.set(k, v)),
      delete: (k: string) => Promise.resolve(void secrets.delete(k)),
    },
    globalState: {
      get: <T>(k: string, d: T) => (state.has(k) ? (state.get(k) as T) : d),
      update: (k: string, v: unknown) => Promise.resolve(void state.set(k, v)),
    },
  } as unknown as vscode.ExtensionContext;
}

const log = { info: () => undefined } as unknown as vscode.LogOutputChannel;

interface FakeBox {
  buttons: readonly unknown[];
  value: string;
  /** As the extension set them: a masked box, its prompt. */
  password?: boolean;
  prompt?: string;
  /** The user clicks the box's button (the remember toggle). */
  trigger(): void;
  /** The user presses Enter. */
  accept(): void;
  /** The user presses Escape. */
  hide(): void;
}

/** Password boxes as the user sees them: each one shown is handed to `onShow`. */
function fakeBoxes(onShow: (box: FakeBox) => void): void {
  (vscode.window as unknown as { createInputBox: () => unknown }).createInputBox = () => {
    const on: Partial<Record<'button' | 'accept' | 'hide', () => void>> = {};
    const box = {
      buttons: [] as readonly unknown[],
      value: '',
      onDidTriggerButton: (f: () => void) => void (on.button = f),
      onDidAccept: (f: () => void) => void (on.accept = f),
      onDidHide: (f: () => void) => void (on.hide = f),
      trigger: () => on.button?.(),
      accept: () => on.accept?.(),
      hide: () => on.hide?.(),
      show: () => onShow(box),
      dispose: () => undefined,
    };
    return box;
  };
}

afterEach(() => {
  fakeBoxes(() => {
    throw new Error('the test did not expect an input box');
  });
});

describe('remembered ${prompt} answers', () => {
  it("two commands at once, for two files: each prompt is answered with its own file's secret", async () => {
    const remembered = new Map([
      [secretKey(A, 'dev', 'password'), 'password-of-a'],
      [secretKey(B, 'dev', 'password'), 'password-of-b'],
    ]);
    const prompter = new SecretPrompter(context(remembered), log);
    // as the server sends them while two fetches run: B's request first, A's while B's is being answered
    const onB = prompter.handle({ ...ASK, uri: B });
    const onA = prompter.handle({ ...ASK, uri: A });
    expect(await Promise.all([onA, onB])).toEqual([{ value: 'password-of-a' }, { value: 'password-of-b' }]);
  });

  it("an answer remembered for one file is never given to another file's connection of the same name", async () => {
    const remembered = new Map<string, string>();
    const prompter = new SecretPrompter(context(remembered), log);
    fakeBoxes((box) => {
      expect(box.buttons).toHaveLength(1); // the remember toggle
      box.trigger();
      box.value = 'typed-for-a';
      box.accept();
    });
    expect(await prompter.handle({ ...ASK, uri: A })).toEqual({ value: 'typed-for-a' });
    expect([...remembered]).toEqual([[secretKey(A, 'dev', 'password'), 'typed-for-a']]);
    const asked: string[] = [];
    fakeBoxes((box) => {
      asked.push('b');
      box.value = 'typed-for-b';
      box.accept();
    });
    expect(await prompter.handle({ ...ASK, uri: B })).toEqual({ value: 'typed-for-b' });
    expect(asked).toEqual(['b']);
  });

  it('a request without a uri (an older server) is asked, and its answer never remembered', async () => {
    const remembered = new Map([[secretKey('', 'dev', 'password'), 'stale']]);
    const prompter = new SecretPrompter(context(remembered), log);
    fakeBoxes((box) => {
      expect(box.buttons).toEqual([]); // no remember toggle
      box.value = 'typed';
      box.accept();
    });
    expect(await prompter.handle({ ...ASK })).toEqual({ value: 'typed' });
    expect(remembered.size).toBe(1);
  });
});

describe('one-time answers, plain boxes and prompts', () => {
  const CODE = { connection: 'sdk', key: 'code', title: 'SnowAuth: sign in to sdk', once: true, uri: A };

  it('a one-time answer is never answered from secret storage, even when one is stored under its key', async () => {
    const remembered = new Map([[secretKey(A, 'sdk', 'code'), 'an-old-code']]);
    const prompter = new SecretPrompter(context(remembered), log);
    const asked: string[] = [];
    fakeBoxes((box) => {
      asked.push(box.prompt ?? '');
      box.value = 'fresh-code';
      box.accept();
    });
    expect(await prompter.handle(CODE)).toEqual({ value: 'fresh-code' });
    expect(asked).toHaveLength(1);
    expect(remembered.get(secretKey(A, 'sdk', 'code'))).toBe('an-old-code');
  });

  it('a one-time answer has no remember toggle and is never stored', async () => {
    const remembered = new Map<string, string>();
    const prompter = new SecretPrompter(context(remembered), log);
    for (const value of ['code-1', 'code-2']) {
      fakeBoxes((box) => {
        expect(box.buttons).toEqual([]); // no remember toggle
        expect(box.password).toBe(true);
        box.value = value;
        box.accept();
      });
      expect(await prompter.handle(CODE)).toEqual({ value });
    }
    expect(remembered.size).toBe(0);
    expect(await prompter.forgetAll()).toBe(0);
    // the answers are secrets all the same: the protocol trace redacts them
    expect([...prompter.answers()]).toEqual(['code-1', 'code-2']);
  });

  it('password=false asks in a plain box, and its answer (not a secret) is not among the redacted ones', async () => {
    const prompter = new SecretPrompter(context(new Map()), log);
    fakeBoxes((box) => {
      expect(box.password).toBe(false);
      box.value = 'admin';
      box.accept();
    });
    expect(await prompter.handle({ connection: 'dev', key: 'admin user name', title: 'Register', once: true, password: false, uri: A })).toEqual({
      value: 'admin',
    });
    expect([...prompter.answers()]).toEqual([]);
  });

  it('without password=false the box is masked', async () => {
    const prompter = new SecretPrompter(context(new Map()), log);
    fakeBoxes((box) => {
      expect(box.password).toBe(true);
      box.value = 'typed';
      box.accept();
    });
    expect(await prompter.handle({ ...ASK, uri: A, password: true })).toEqual({ value: 'typed' });
  });

  it("the request's prompt is the box's prompt; without one the box names the key and the connection", async () => {
    const prompter = new SecretPrompter(context(new Map()), log);
    const prompts: Array<string | undefined> = [];
    fakeBoxes((box) => {
      prompts.push(box.prompt);
      box.value = 'x';
      box.accept();
    });
    await prompter.handle({ ...CODE, prompt: 'Paste the code the browser shows' });
    await prompter.handle({ ...ASK, uri: A });
    expect(prompts).toEqual(['Paste the code the browser shows', 'password for connection "dev"']);
  });

  it('a cancelled one-time box answers null and stores nothing', async () => {
    const remembered = new Map<string, string>();
    const prompter = new SecretPrompter(context(remembered), log);
    fakeBoxes((box) => box.hide());
    expect(await prompter.handle(CODE)).toEqual({ value: null });
    expect(remembered.size).toBe(0);
  });
});
