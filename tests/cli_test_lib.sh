# Sourced by the command-line test scripts: pass/fail bookkeeping and expect_fail.
# The sourcing script sets $work (a scratch folder) first; finish() prints the closing line
# "N passed, N failed" and returns non-zero on any failure.
failures=0
passes=0

pass() { passes=$((passes + 1)); echo "ok: $1"; }
fail() { failures=$((failures + 1)); echo "FAIL: $1"; }

# expect_fail NAME EXIT_CODE MESSAGE_FRAGMENT COMMAND...: the command fails with that exit code
# and its stderr contains the fragment.
expect_fail() {
  local name=$1 code=$2 fragment=$3
  shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$code" ]; then
    fail "$name: exit $got, expected $code; stderr: $(head -c 400 "$work/err")"
  elif ! grep -qF -- "$fragment" "$work/err"; then
    fail "$name: stderr lacks '$fragment': $(head -c 400 "$work/err")"
  else
    pass "$name"
  fi
}

finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
