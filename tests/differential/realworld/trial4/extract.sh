#!/usr/bin/env bash
# extract.sh CASE OWNER/NAME PATH... : copies PATHs (files or directories) from the fetched
# snapshot /work/.mirror/OWNER+NAME at HEAD (or $COMMIT) into CASE/ (layout kept) and writes CASE/SOURCE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c=$1 repo=$2; shift 2
g=/work/.mirror/${repo/\//+}/repo; [ -d "$g/.git" ] && g=$g/.git
commit=$(git --git-dir="$g" rev-parse "${COMMIT:-HEAD}")
mkdir -p "$here/$c"
{ echo "repo: github.com/$repo"; echo "commit: $commit"; } > "$here/$c/SOURCE"
for p in "$@"; do
  git --git-dir="$g" archive "$commit" -- "$p" | tar -x -C "$here/$c"
  echo "path: $p" >> "$here/$c/SOURCE"
done
