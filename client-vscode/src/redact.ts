/**
 * Redaction of the protocol trace (`snowauth.trace.server` = verbose writes whole messages to the output):
 * documents carry literal secrets, `workspace/applyEdit` carries tokens, a quick fix carries the secret it moves
 * into .env, `snowauth/promptSecret` answers carry passwords, and the result of `snowauth.accessToken` (the one
 * command whose result is a secret) carries an `"access_token"`. Pure, unit-tested.
 */
export const REDACTED = '<redacted>';

const SECRET_KEYS = 'access_token|refresh_token|client_secret|password';
// key = "value" | key = 'value' | key = \"value\" (inside JSON): the quote is group 3, the value group 4.
// The key starts a word, or follows a JSON escape (`\npassword = …` inside a JSON string).
const ASSIGNMENT = new RegExp(`(?:(?<![A-Za-z0-9_])|(?<=\\\\[nrt]))(${SECRET_KEYS})(\\s*=\\s*)(\\\\"|"|')((?:(?!\\3)[^\\n])*?)\\3`, 'g');
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g;
// "access_token": "value" in a JSON result (an executeCommand answer, pretty-printed or not)
const JSON_SECRET = new RegExp(`("(?:${SECRET_KEYS})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'g');
const NEW_TEXT = /("newText"\s*:\s*")((?:[^"\\]|\\.)*)(")/g;
const WORKSPACE_EDIT = /workspace\/applyEdit|textDocument\/codeAction|codeAction\/resolve|"documentChanges"|"changes"/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function redactTrace(text: string, known: Iterable<string> = []): string {
  let out = text;
  for (const secret of known) {
    if (!secret) continue;
    const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
    for (const form of forms) out = out.replace(new RegExp(escapeRegExp(form), 'g'), REDACTED);
  }
  // workspace edits carry tokens (applyEdit) and literal secrets (the quick fix that moves one into .env)
  if (WORKSPACE_EDIT.test(out)) out = out.replace(NEW_TEXT, `$1${REDACTED}$3`);
  out = out.replace(JSON_SECRET, `$1${REDACTED}$3`);
  out = out.replace(ASSIGNMENT, (whole, key: string, eq: string, quote: string, value: string) =>
    value.startsWith('${') ? whole : `${key}${eq}${quote}${REDACTED}${quote}`,
  );
  return out.replace(BEARER, `$1 ${REDACTED}`);
}
