# shellcheck shell=bash
# The assertions the installer script tests share: one PASS/FAIL line each, a count of the
# failures, and the summary that sets the exit status. Sourced; the caller sets test_name.

failed=0
pass() { echo "PASS  $1"; }
fail() { # WHAT [OUTPUT]
    echo "FAIL  $1"
    local line
    [[ -z "${2:-}" ]] || while IFS= read -r line; do echo "      | $line"; done <<<"$2"
    failed=$((failed + 1))
}
# CMD exits non-zero and says TEXT.
expect_refused() { # WHAT TEXT CMD...
    local what=$1 text=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc != 0)) && grep -qF -- "$text" <<<"$out"; then
        pass "$what"
    else
        fail "$what (exit $rc; expected '$text')" "$out"
    fi
}
# Prints the summary; exits 1 when any assertion failed.
finish() {
    : "${test_name:?the sourcing test sets test_name}"
    if ((failed > 0)); then
        echo "$test_name: $failed assertion(s) FAILED"
        exit 1
    fi
    echo "$test_name: all assertions passed"
}
