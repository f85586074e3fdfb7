#!/usr/bin/env bash
# golden.sh CASE TESTDIR: runs each `packer build …` of the project's bats file TESTDIR/test with
# kiln instead (DIR=TESTDIR), then the test's `diff -u OUTPUT GOLDEN`; writes CASE/out/golden.txt
# (one line per test: ok/FAIL) and CASE/out/golden-N.diff for failures. TOOL=packer runs /usr/bin/packer.
here=$(cd "$(dirname "$0")" && pwd); c=$1; DIR=$(cd "$here/$c/$2" && pwd)
bin="$here/../../../../target/debug/kiln"; [ "${TOOL:-kiln}" = packer ] && bin=/usr/bin/packer
export CHECKPOINT_DISABLE=1
mkdir -p "$here/$c/out"; out="$here/$c/out/golden${TOOL:+-$TOOL}.txt"; : > "$out"; rm -f "$here/$c"/out/golden${TOOL:+-$TOOL}-*.diff
rm -rf "$DIR/output"; n=0
while IFS= read -r line; do
  case "$line" in
    *'@test '*) name=$(echo "$line" | sed 's/.*@test "\(.*\)".*/\1/') ;;
    *'mkdir -p '*) eval "$line" ;;
    *'packer build '*) cmd=${line#*packer build }; (cd "$DIR" && eval "\"$bin\" build $cmd") > "$here/$c/out/golden-last.log" 2>&1; brc=$? ;;
    *'run diff -u '*) n=$((n+1)); args=${line#*run diff -u }
      if eval "diff -u $args" > "$here/$c/out/golden${TOOL:+-$TOOL}-$n.diff" 2>&1; then echo "ok $n build=$brc $name" >> "$out"; rm "$here/$c/out/golden${TOOL:+-$TOOL}-$n.diff"
      else echo "FAIL $n build=$brc $name" >> "$out"; cat "$here/$c/out/golden-last.log" >> "$here/$c/out/golden${TOOL:+-$TOOL}-$n.diff"; fi ;;
  esac
done < "$DIR/test"
rm -f "$here/$c/out/golden-last.log"; rm -rf "$DIR/output"
