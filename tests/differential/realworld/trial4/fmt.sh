#!/usr/bin/env bash
# fmt.sh [CASE...]: `fmt -check -diff` of every *.pkr.hcl / *.pkrvars.hcl file of each case with
# kiln and packer 1.6.6; writes CASE/out/fmt.txt (one line per file: exit codes, and "same"/"DIFF"
# for the files as each tool rewrites them, "diff-hunks" when only the printed diffs differ) and CASE/out/fmt-FILE.{kiln,packer} when they differ.
here=$(cd "$(dirname "$0")" && pwd); kiln="$here/../../../../target/debug/kiln"
export CHECKPOINT_DISABLE=1
cases=("$@"); [ ${#cases[@]} -eq 0 ] && cases=($(cd "$here" && ls -d */ | tr -d /))
for c in "${cases[@]}"; do
  dir="$here/$c"; [ -f "$dir/SOURCE" ] || continue; mkdir -p "$dir/out"; : > "$dir/out/fmt.txt"
  rm -f "$dir"/out/fmt-*
  find "$dir" -path "$dir/out" -prune -o \( -name '*.pkr.hcl' -o -name '*.pkrvars.hcl' \) -type f -print | sort | while read -r f; do
    rel=${f#$dir/}
    k=$(cd "$(dirname "$f")" && timeout 30 "$kiln" fmt -check -diff "$(basename "$f")" 2>&1); kr=$?
    p=$(cd "$(dirname "$f")" && timeout 30 /usr/bin/packer fmt -check -diff "$(basename "$f")" 2>&1); pr=$?
    kb=$(printf '%s\n' "$k" | grep -E '^[-+ @]' | grep -vE '^(---|\+\+\+) '); pb=$(printf '%s\n' "$p" | grep -E '^[-+ @]' | grep -vE '^(---|\+\+\+) ')
    s=same; [ "$kb" = "$pb" ] || s=diff-hunks
    # compare the rewritten files too (diff hunks may differ while the result is the same)
    t=$(mktemp -d); n=$(basename "$f"); mkdir "$t/k" "$t/p"; cp "$f" "$t/k/$n"; cp "$f" "$t/p/$n"
    (cd "$t/k" && "$kiln" fmt "$n" >/dev/null 2>&1); (cd "$t/p" && /usr/bin/packer fmt "$n" >/dev/null 2>&1)
    if ! cmp -s "$t/k/$n" "$t/p/$n"; then s=DIFF; fi; rm -rf "$t"
    echo "$rel kiln=$kr packer=$pr $s" >> "$dir/out/fmt.txt"
    if [ $s = DIFF ]; then n=$(echo "$rel" | tr / _); printf '%s\n' "$k" > "$dir/out/fmt-$n.kiln"; printf '%s\n' "$p" > "$dir/out/fmt-$n.packer"; fi
  done
done
