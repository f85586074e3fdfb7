#!/usr/bin/env bash
# Runs `validate`, `validate -syntax-only` and `inspect` of packer (1.6.6, /usr/bin/packer) and
# kiln (target/debug/kiln) on every case (or the named ones) and writes CASE/out/TOOL.KIND with
# the exit status on the first line.
#   ./run.sh [-t packer|kiln] [CASE...]
# A case may have: `cwd` (directory, relative to the case, to run in; default the case itself)
# and `args` (one line, evaluated by the shell: -var/-var-file/-only arguments and the template,
# relative to cwd; default `.`) and `env` (lines NAME=VALUE exported first) and `setup` (executable, run first:
# creates what a Makefile would generate outside the case, e.g. in /tmp). TIMEOUT (default 60) bounds each command.
# STRIPPED=1 runs instead on a copy in /tmp without `required_plugins` blocks and
# `required_version` lines (what Packer 1.6.6 cannot read), writing CASE/out/stripped-TOOL.KIND.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=(packer kiln)
if [ "${1:-}" = -t ]; then tools=("$2"); shift 2; fi
kiln="$here/../../../../target/debug/kiln"
export CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true PACKER_CACHE_DIR=/tmp/realworld4-packer-cache
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE PACKER_LOG KILN_LOG
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(cd "$here" && ls -d */ | tr -d /))
for c in "${cases[@]}"; do
    c=${c%/}; dir="$here/$c"; [ -f "$dir/SOURCE" ] || continue
    base="$dir"; pre=""
    if [ -n "${STRIPPED:-}" ]; then
        grep -rqE '^[[:space:]]*required_(plugins|version)' --include='*.pkr.hcl' "$dir" || continue
        base="/tmp/realworld4-stripped/$c"; pre="stripped-"
        mkdir -p /tmp/realworld4-stripped; python3 "$here/../strip-required-plugins.py" "$dir" "$base" >/dev/null
    fi
    cwd="$base"; [ -f "$dir/cwd" ] && cwd="$base/$(cat "$dir/cwd")"
    args="."; [ -f "$dir/args" ] && args=$(cat "$dir/args")
    mkdir -p "$dir/out"
    [ -x "$dir/setup" ] && "$dir/setup"
    for t in "${tools[@]}"; do
        bin=/usr/bin/packer; [ "$t" = kiln ] && bin=$kiln
        for kind in validate syntax inspect; do
            sub=(validate); [ $kind = syntax ] && sub=(validate -syntax-only); [ $kind = inspect ] && sub=(inspect)
            out="$dir/out/$pre$t.$kind"
            start=$(date +%s.%N)
            (cd "$cwd" && { [ -f "$dir/env" ] && set -a && . "$dir/env" && set +a; true; } && eval "timeout ${TIMEOUT:-60} \"$bin\" ${sub[*]} $args") >"$out.tmp" 2>&1 </dev/null; rc=$?
            end=$(date +%s.%N)
            { echo "exit $rc"; cat "$out.tmp"; } > "$out"; rm -f "$out.tmp"
            printf '%s %s %s exit=%s %.1fs\n' "$c" "$t" "$kind" "$rc" "$(echo "$end - $start" | bc)"
        done
    done
done
