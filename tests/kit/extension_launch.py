"""The VS Code extension's real launch code outside the editor: client-vscode/src/serverCommand.ts
and processes.ts (the modules the extension is built from) bundled by esbuild with an entry that
does what launcher.ts/server.ts do around them, run by node with a JSON job:

    node launch.mjs '{"mode": "serve", "globalStorage": …, "workspace": …, "bundledDir": …}'

modes: `probe` (the version and import probes of `python`), `resolve` (prints the resolution),
`bootstrap` (runs the private venv's set-up steps), `serve` (resolves and starts the server with
the launch's stdio: speak LSP to node's stdin/stdout). Used by tests/security and
benchmarks/first_start.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "client-vscode"
ESBUILD = CLIENT / "node_modules" / ".bin" / "esbuild"

# The extension's launch sequence (launcher.ts / server.ts without the editor around it):
# where the processes run, the probes, the resolution, the set-up steps, the server process.
ENTRY = """
import { spawn } from 'node:child_process';
import { processPlace, processProbes, runStep, serverProcess } from '@CLIENT@/src/processes';
import { resolveServer } from '@CLIENT@/src/serverCommand';

const job = JSON.parse(process.argv[2]);
const input = {
  command: job.command ?? [],
  interpreter: job.interpreter ?? '',
  globalStorage: job.globalStorage,
  platform: process.platform,
  arch: process.arch,
  trusted: job.trusted ?? true,
  workspaceFolders: [job.workspace],
};
const place = await processPlace(input);
const probes = processProbes(place, {
  bundledDir: job.bundledDir,
  pythonExtensionInterpreter: () => Promise.resolve(job.pythonExt),
  log: (m) => console.error(m),
});
if (job.mode === 'probe') {
  const python = [job.python];
  const version = await probes.pythonVersionOutput(python);
  const imports = await probes.canImportSnowauth(python);
  console.log(JSON.stringify({ version, imports }));
  process.exit(0);
}
const resolution = await resolveServer(input, probes);
if (job.mode === 'resolve') {
  console.log(JSON.stringify(resolution));
  process.exit(0);
}
if (job.mode === 'bootstrap') {
  if (resolution.kind !== 'bootstrap') {
    console.error(JSON.stringify(resolution));
    process.exit(3);
  }
  const codes = [];
  for (const step of resolution.plan.steps) codes.push(await runStep(step, place, (t) => console.error(t)));
  console.log(JSON.stringify({ codes, venvPython: resolution.plan.venvPython }));
  process.exit(0);
}
if (resolution.kind !== 'launch') {
  console.error(JSON.stringify(resolution));
  process.exit(3);
}
const server = serverProcess(resolution.launch, place);
console.error(`server: ${JSON.stringify([server.command, ...server.args])} in ${server.options.cwd}`);
const child = spawn(server.command, server.args, { ...server.options, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
"""


def bundle_launcher(folder: Path) -> Path:
    """The extension's launch modules bundled into ``folder/launch.mjs``, as esbuild bundles the extension."""
    entry = folder / "entry.ts"
    entry.write_text(ENTRY.replace("@CLIENT@", CLIENT.as_posix()), encoding="utf-8")
    out = folder / "launch.mjs"
    subprocess.run(
        [
            str(ESBUILD),
            str(entry),
            "--bundle",
            "--platform=node",
            "--format=esm",
            "--target=node18",
            f"--outfile={out}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out
