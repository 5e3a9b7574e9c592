#!/bin/sh
# Run by the task of .vscode/tasks.json with a fresh token in $SNOWAUTH_ACCESS_TOKEN (from
# ${command:snowauth.accessToken}): the Table API of the emulator, its HTTP status written to api-status.txt.
# printf is a shell builtin and `-H @-` reads the header from stdin: the token is in no process's argv.
printf 'Authorization: Bearer %s\n' "$SNOWAUTH_ACCESS_TOKEN" |
  curl -sS -o /dev/null -w '%{http_code}' -H @- 'http://127.0.0.1:@EMU_PORT@/api/now/table/sys_user?sysparm_limit=1' > api-status.txt
