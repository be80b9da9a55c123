#!/usr/bin/env bash
# Fails when a tracked file is an executable binary (ELF, Mach-O, PE) or
# larger than 1 MiB, unless it is listed in tools/large_files.txt (test
# data that must be this size, one path per line). Build outputs belong in
# .gitignore, not in git.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed=""
[ -f tools/large_files.txt ] && allowed=$(grep -v '^#' tools/large_files.txt || true)
bad=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  if printf '%s\n' "$allowed" | grep -qxF -- "$f"; then continue; fi
  size=$(stat -c %s -- "$f")
  magic=$(head -c 4 -- "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46|cffaedfe|cefaedfe|feedface|feedfacf|4d5a*)
      echo "tracked binary: $f ($size bytes)" >&2; bad=1; continue ;;
  esac
  if [ "$size" -gt 1048576 ]; then
    echo "tracked file over 1 MiB: $f ($size bytes)" >&2; bad=1
  fi
done < <(git ls-files -z)
if [ "$bad" -ne 0 ]; then
  echo "remove these from git (git rm --cached) and ignore them, or list real test data in tools/large_files.txt" >&2
  exit 1
fi
