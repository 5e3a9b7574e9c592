/**
 * Diagnose Connection's reports as read-only documents: a `snowauth-report:` TextDocumentContentProvider holds the
 * markdown the server returned (`DiagnoseResult.report`), one document per connection file and connection, shown
 * beside the connection file. Running Diagnose again replaces the document's text, where it is shown.
 */
import * as vscode from 'vscode';

export const REPORT_SCHEME = 'snowauth-report';

/** The report's document name (its tab title): `Diagnose <connection>.md`, path separators made harmless. */
export function reportName(connection: string): string {
  return `Diagnose ${connection.replace(/[/\\]/g, '_')}.md`;
}

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Shows `report` (markdown) for `connection` of the file `fileUri`, beside the active editor. */
  async show(fileUri: string, connection: string, report: string): Promise<void> {
    // the file in the query keeps two files' connections of the same name apart
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${reportName(connection)}`, query: fileUri });
    this.texts.set(uri.toString(), report);
    this.changed.fire(uri);
    let doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== 'markdown') doc = await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    // where it is shown already (a second run), else beside the connection file
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    await vscode.window.showTextDocument(doc, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.Beside, preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.texts.clear();
  }
}
