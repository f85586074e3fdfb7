#!/usr/bin/env bash
# Runs `kiln validate` and `packer validate` (Packer 1.6.6) side by side in every case folder
# here (or the ones named), recording each tool's exit status and output in the case folder:
# kiln.out / packer.out, first line "exit N". Each case's `invoke` file says where to run
# (line 1, relative to the case folder) and the validate arguments (line 2, split on spaces);
# an `invoke2` file, a second run (outputs kiln2.out / packer2.out).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kiln="${KILN:-$here/../../../target/debug/kiln}"
[ -x "$kiln" ] || { echo "no kiln binary at $kiln" >&2; exit 2; }
export CHECKPOINT_DISABLE=1 PACKER_CACHE_DIR="${TMPDIR:-/tmp}/kiln-ansible-diff-cache"
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=("$here"/*/)
for c in "${cases[@]}"; do
    c="${c%/}"; name="$(basename "$c")"
    [ -f "$c/invoke" ] || continue
    for inv in invoke invoke2; do
        [ -f "$c/$inv" ] || continue
        suffix="${inv#invoke}"
        { read -r dir; read -r line; } < "$c/$inv"
        read -r -a args <<< "$line"
        (cd "$c/$dir" && "$kiln" validate "${args[@]}") >"$c/kiln.raw" 2>&1; kv=$?
        (cd "$c/$dir" && packer validate "${args[@]}") >"$c/packer.raw" 2>&1; pv=$?
        { echo "exit $kv"; cat "$c/kiln.raw"; } > "$c/kiln$suffix.out"
        { echo "exit $pv"; cat "$c/packer.raw"; } > "$c/packer$suffix.out"
        rm -f "$c/kiln.raw" "$c/packer.raw"
        printf '%-45s kiln=%s packer=%s\n' "$name${suffix:+ ($inv)}" "$kv" "$pv"
    done
done
