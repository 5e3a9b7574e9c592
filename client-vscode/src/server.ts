/** Starts, stops and restarts the language client. */
import * as vscode from 'vscode';
import {
  type ClientCapabilities,
  ExecuteCommandRequest,
  type FeatureState,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  RevealOutputChannelOn,
  type ServerOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { LANGUAGE_ID } from './connections';
import { bootstrap, launchPlace, resolve } from './launcher';
import { type ProcessPlace, serverProcess, withEditorProxy } from './processes';
import { ACCESS_TOKEN, PROMPT_SECRET, type PromptSecretParams, declareCapabilities } from './protocol';
import type { SecretPrompter } from './secrets';
import type { ServerLaunch } from './serverCommand';
import { initializationOptions, sendSettings } from './settings';
import { createTraceChannel } from './traceChannel';

/** Declares `capabilities.experimental.snowauth` (see CLIENT_CAPABILITIES). */
export class PromptSecretFeature implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    declareCapabilities(capabilities);
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

/**
 * vscode-languageclient registers a VS Code command for every command the server lists; the extension registers
 * `snowauth.accessToken` itself (it returns the token string, exists before the server runs, takes `{file,
 * connection}`), so the client must leave that id alone.
 */
export function keepOwnCommands(client: LanguageClient, own: ReadonlySet<string>): void {
  const feature = client.getFeature(ExecuteCommandRequest.method);
  const register = feature.register.bind(feature);
  feature.register = (data) => {
    const commands = (data.registerOptions.commands ?? []).filter((c) => !own.has(c));
    register({ ...data, registerOptions: { ...data.registerOptions, commands } });
  };
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a client started or stopped. */
  readonly onDidChange = this.changed.event;
  lastError: string | undefined;
  private readonly traceChannel: vscode.LogOutputChannel;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: SecretPrompter,
    private readonly middleware: Middleware,
  ) {
    this.traceChannel = createTraceChannel(log, () => secrets.answers());
  }

  get running(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.client) return;
    this.lastError = undefined;
    let launch: ServerLaunch;
    let place: ProcessPlace;
    try {
      place = await launchPlace(this.context);
      const resolution = await resolve(this.context, this.log, place);
      if (resolution.kind === 'error') throw new Error(resolution.message);
      launch = resolution.kind === 'launch' ? resolution.launch : await bootstrap(resolution.plan, this.log, place);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.log.info(`Starting the language server (${launch.source}): ${[launch.command, ...launch.args].join(' ')}`);
    // No `transport`: TransportKind.stdio would append `--stdio` to the command line.
    const editorProxy = vscode.workspace.getConfiguration('http').inspect<string>('proxy')?.globalValue;
    const serverOptions: ServerOptions = serverProcess(launch, { ...place, env: withEditorProxy(place.env, editorProxy) });
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: LANGUAGE_ID },
        { scheme: 'untitled', language: LANGUAGE_ID },
      ],
      outputChannel: this.log,
      traceOutputChannel: this.traceChannel,
      // The server reports its own failures (window/showMessage or showMessageRequest): no second notification from the client.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // the settings the server reads (settings.ts), sent again on change by sendSettings
      initializationOptions: initializationOptions(vscode.workspace.isTrusted, vscode.workspace.getConfiguration('snowauth')),
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.snowauth.toml,.env}'),
      },
      middleware: this.middleware,
    };
    const client = new LanguageClient('snowauth', 'SnowAuth', serverOptions, clientOptions);
    client.registerFeature(new PromptSecretFeature());
    keepOwnCommands(client, new Set([ACCESS_TOKEN]));
    client.onRequest(PROMPT_SECRET, (params: PromptSecretParams) => this.secrets.handle(params));
    this.client = client;
    try {
      await client.start();
      this.log.info('The language server is running.');
    } catch (e) {
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      this.fail(e);
    }
    this.changed.fire();
  }

  private fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.lastError = message;
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'snowauth.server');
      if (choice === 'Show Output') this.log.show();
    });
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.dispose(3000);
      } catch (e) {
        this.log.warn(`Stopping the language server: ${String(e)}`);
      }
      this.changed.fire();
    }
  }

  /** Tells the running server the settings it reads (`workspace/didChangeConfiguration`); it is not restarted. */
  async sendSettings(): Promise<void> {
    try {
      await sendSettings(this.running, vscode.workspace.getConfiguration('snowauth'));
    } catch (e) {
      this.log.warn(`Sending the settings to the language server: ${String(e)}`);
    }
  }

  async restart(): Promise<void> {
    this.log.info('Restarting the language server.');
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
    this.traceChannel.dispose();
  }
}
