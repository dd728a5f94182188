#!/usr/bin/env bash
# The collective watchdog under a real mpiexec: the last of 3 ranks stops (SIGSTOP) before an
# all-reduce; the job must end within the 2 s deadline plus the census, with a non-zero exit and
# a message naming the operation and the stopped rank, and naming the rank that did arrive.
# Usage: collective_stall_test.sh PROBE_BINARY MPIEXEC
set -uo pipefail
probe=$1
mpiexec=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

start=$(date +%s)
timeout 60 "$mpiexec" -n 3 --oversubscribe "$probe" 2 >"$work/out" 2>"$work/err"
code=$?
echo "exit $code after $(($(date +%s) - start)) s"
if [ "$code" -eq 124 ]; then
  fail "the job hung: killed by timeout after 60 s"
elif [ "$code" -eq 0 ]; then
  fail "the job exited 0"
else
  pass "the job ended with exit $code"
fi
for fragment in "MpiCommunicator::AllReduce (collective #2, allreduce) timed out after 2 s" \
                "rank 2 did not arrive" "is waiting in allreduce #2"; do
  if grep -qF -- "$fragment" "$work/err"; then pass "message has '$fragment'"; else
    fail "stderr lacks '$fragment': $(head -c 1500 "$work/err")"
  fi
done
# The stopped rank must not outlive the job.
sleep 1
if pgrep -f "^$probe" >/dev/null; then fail "a probe process is still running"; else
  pass "no probe process left"
fi
finish
