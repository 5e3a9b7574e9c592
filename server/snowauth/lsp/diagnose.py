"""`snowauth.diagnoseConnection`: Diagnose Connection in the editor.

It walks the connection's chain live (:mod:`snowauth.doctor`, shared with `snowauth
doctor`) with the command's editor adapter as its UI (the admin asked once through
`snowauth/promptSecret`, or another connection's token named by ``adminConnection``), and
answers ``ext.DiagnoseResult``. A failed check becomes a problem on the key it names
(source "snowauth doctor") until the connection's text changes or a diagnosis passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snowauth import connections as conns
from snowauth.doctor import AdminAccess, ask_admin, diagnose
from snowauth.lsp import ext
from snowauth.lsp.failures import CommandError

if TYPE_CHECKING:
    from snowauth.lsp.commands import Commands

DOCTOR_SOURCE = "snowauth doctor"  # the source of a failed diagnosis's problem


async def diagnose_connection(commands: Commands, p: dict[str, Any]) -> dict[str, Any]:
    commands._require_trust()
    doc, a, c = commands._target(p)
    workflow = commands._workflow(doc, a, c)
    named = p.get("adminConnection")
    if named is not None and not isinstance(named, str):
        raise CommandError('"adminConnection" must name a connection of the file')
    admin_workflow = commands._workflow(doc, a, conns.select(a, named, None)) if named is not None else None

    async def admin() -> AdminAccess:
        return await ask_admin(workflow.ui, c.name, admin_workflow=admin_workflow)

    async with commands.reporter.progress(f"SnowAuth: diagnosing {c.name}"):
        report = await diagnose(workflow, admin, commands.client)
    failed = report.failed
    if failed is None:
        commands.reporter.clear_failure(doc.uri)
    else:
        commands.reporter.record_problem(
            doc,
            c,
            failed.key,
            f"snowauth doctor, “{failed.title}” failed: {failed.message}",
            code=f"doctor-{failed.id}",
            pointer="Diagnosis failed",
            source=DOCTOR_SOURCE,
        )
    commands.reporter.announce(report.summary())
    result: ext.DiagnoseResult = report.as_result()  # type: ignore[assignment]
    return dict(result)
