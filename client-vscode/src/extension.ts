import * as vscode from 'vscode';
import { type Services, commandMiddleware, registerCommands } from './commands';
import { ConnectionService } from './connections';
import { ReportDocuments } from './report';
import { SecretPrompter } from './secrets';
import { ServerManager } from './server';
import { SERVER_SETTINGS } from './settings';
import { StatusBar } from './statusBar';

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('SnowAuth', { log: true });
  context.subscriptions.push(log);
  const secrets = new SecretPrompter(context, log);
  const reports = new ReportDocuments();
  context.subscriptions.push(reports);
  // The middleware (handed to the client at start) reaches the other services through this late-bound object.
  const services = { log, secrets, reports } as Services;
  const server = new ServerManager(context, log, secrets, commandMiddleware(services));
  manager = server;
  const connections = new ConnectionService(() => server.running, log);
  const status = new StatusBar(connections);
  Object.assign(services, { server, connections, status: () => status } satisfies Partial<Services>);
  context.subscriptions.push(server, status);
  registerCommands(context, services);

  context.subscriptions.push(
    server.onDidChange(() => status.schedule(0)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('snowauth.server')) {
        connections.resetSupport();
        void server.restart();
      } else if (SERVER_SETTINGS.some((section) => e.affectsConfiguration(section))) {
        void server.sendSettings();
      }
    }),
    // The server is told at start whether the workspace is trusted.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.restart()),
  );
  const version = (context.extension.packageJSON as { version?: string }).version ?? '?';
  log.info(`SnowAuth ${version} activated (workspace trusted: ${vscode.workspace.isTrusted}).`);
  void server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
}
