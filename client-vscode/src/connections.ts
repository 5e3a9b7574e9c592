/** Asks the server which connections a file holds (`snowauth/listConnections`), and picks one. */
import * as vscode from 'vscode';
import { ResponseError, type LanguageClient } from 'vscode-languageclient/node';
import {
  type ConnectionInfo,
  type ListConnectionsParams,
  type ListConnectionsResult,
  LIST_CONNECTIONS,
  connectionAt,
} from './protocol';
import { statusView } from './status';

export const LANGUAGE_ID = 'snowauth-toml';
export const FILE_GLOB = '**/*.snowauth.toml';

export interface FileConnection {
  uri: vscode.Uri;
  connection: ConnectionInfo;
}

/** `unsupported`: the server does not implement the request (an older or partial server). */
export type ListOutcome = { kind: 'ok'; connections: ConnectionInfo[] } | { kind: 'unsupported' } | { kind: 'unavailable' };

export class ConnectionService {
  private supported = true;

  constructor(
    private readonly getClient: () => LanguageClient | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  resetSupport(): void {
    this.supported = true;
  }

  async list(uri: vscode.Uri): Promise<ListOutcome> {
    const client = this.getClient();
    if (!client || !client.isRunning()) return { kind: 'unavailable' };
    if (!this.supported) return { kind: 'unsupported' };
    try {
      const params: ListConnectionsParams = { uri: uri.toString() };
      const result = await client.sendRequest<ListConnectionsResult | null>(LIST_CONNECTIONS, params);
      return { kind: 'ok', connections: result?.connections ?? [] };
    } catch (e) {
      if (e instanceof ResponseError && e.code === -32601 /* MethodNotFound */) {
        this.supported = false;
        this.log.warn(`The server does not implement ${LIST_CONNECTIONS}; using positions instead of connection names.`);
        return { kind: 'unsupported' };
      }
      this.log.warn(`${LIST_CONNECTIONS} failed for ${uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
      return { kind: 'unavailable' };
    }
  }

  /** Every connection in the workspace's `*.snowauth.toml` files and in open snowauth documents. */
  async all(): Promise<FileConnection[]> {
    const uris = new Map<string, vscode.Uri>();
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.languageId === LANGUAGE_ID) uris.set(doc.uri.toString(), doc.uri);
    }
    for (const uri of await vscode.workspace.findFiles(FILE_GLOB, '**/node_modules/**', 500)) {
      uris.set(uri.toString(), uri);
    }
    const lists = await Promise.all(
      [...uris.values()].map(async (uri) => {
        const outcome = await this.list(uri);
        return outcome.kind === 'ok' ? outcome.connections.map((connection) => ({ uri, connection })) : [];
      }),
    );
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    return lists.flat().sort((a, b) => {
      // the active file first, then by path, then in file order
      const aa = a.uri.toString() === active ? 0 : 1;
      const bb = b.uri.toString() === active ? 0 : 1;
      return aa - bb || a.uri.fsPath.localeCompare(b.uri.fsPath) || a.connection.range.start.line - b.connection.range.start.line;
    });
  }

  /** The connection under the cursor of a snowauth editor, if the server can tell. */
  async atCursor(editor: vscode.TextEditor): Promise<ConnectionInfo | undefined> {
    const outcome = await this.list(editor.document.uri);
    if (outcome.kind !== 'ok') return undefined;
    const pos = editor.selection.active;
    return connectionAt(outcome.connections, { line: pos.line, character: pos.character });
  }

  /** A quick pick over every connection (none: a message; exactly one: that one, without asking). */
  async pick(title: string): Promise<FileConnection | undefined> {
    const all = await this.all();
    if (all.length === 0) {
      const client = this.getClient();
      void vscode.window.showInformationMessage(
        client?.isRunning()
          ? 'SnowAuth: no connections found in the workspace\'s *.snowauth.toml files.'
          : 'SnowAuth: the language server is not running (see "SnowAuth: Show Output").',
      );
      return undefined;
    }
    if (all.length === 1) return all[0];
    const now = new Date();
    const items = all.map((fc) => ({
      label: fc.connection.name,
      // isDefault: the connection the file's `default` names (a lone connection is not labelled)
      description: vscode.workspace.asRelativePath(fc.uri) + (fc.connection.isDefault ? ' (default)' : ''),
      detail: statusView(fc.connection, now).text.replace(/^\$\(key\) SnowAuth [^:]*: /, 'Token: '),
      fc,
    }));
    const chosen = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose a connection', matchOnDescription: true });
    return chosen?.fc;
  }
}
