/** The status bar item for the connection under the cursor of the active snowauth editor. */
import * as vscode from 'vscode';
import { type ConnectionService, LANGUAGE_ID } from './connections';
import { connectionForStatus } from './protocol';
import { statusView } from './status';

const REFRESH_MS = 30_000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly connections: ConnectionService) {
    this.item = vscode.window.createStatusBarItem('snowauth.token', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'SnowAuth token';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule(150);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule(400);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('snowauth.statusBar')) this.schedule(0);
      }),
    );
    this.timer = setInterval(() => this.schedule(0), REFRESH_MS);
  }

  /** Re-reads the state soon (after a command, the server's answer, a settings change…). */
  schedule(delayMs = 0): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.update(), delayMs);
  }

  async update(): Promise<void> {
    const generation = ++this.generation;
    const editor = vscode.window.activeTextEditor;
    const enabled = vscode.workspace.getConfiguration('snowauth').get<boolean>('statusBar.enabled', true);
    if (!enabled || !editor || editor.document.languageId !== LANGUAGE_ID) {
      this.item.hide();
      return;
    }
    const outcome = await this.connections.list(editor.document.uri);
    if (generation !== this.generation) return; // a newer update is under way
    if (outcome.kind !== 'ok') {
      this.item.hide();
      return;
    }
    const pos = editor.selection.active;
    const conn = connectionForStatus(outcome.connections, { line: pos.line, character: pos.character });
    if (!conn) {
      this.item.hide();
      return;
    }
    const view = statusView(conn, new Date());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = {
      title: view.action === 'fetch' ? 'Fetch Token' : 'Refresh Token',
      command: view.action === 'fetch' ? 'snowauth.ui.fetchToken' : 'snowauth.ui.refreshToken',
      arguments: [{ uri: editor.document.uri.toString(), connection: conn.name }],
    };
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    for (const d of this.disposables) d.dispose();
  }
}
