#!/usr/bin/env bash
# Checks that every C++ source of the repository is formatted with clang-format-14 and .clang-format.
#   scripts/check-format.sh        list the files that differ (exit 1 if any)
#   scripts/check-format.sh --fix  reformat them in place
# scripts/test.sh runs the check (CI fails on an unformatted file).
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=clang-format-14
if ! command -v "$fmt" >/dev/null; then
  echo "check-format: $fmt not found (apt-get install clang-format-14)" >&2
  exit 2
fi
mode=check
case "${1:-}" in
  "") ;;
  --fix) mode=fix ;;
  *) echo "usage: scripts/check-format.sh [--fix]" >&2; exit 2 ;;
esac
# Tracked C++ files (no build trees, no generated code); outside a git checkout, the source folders.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h' '*.cc' '*.inc')
else
  mapfile -t files < <(find bench examples include src tests -type f \( -name '*.cpp' -o -name '*.hpp' \
    -o -name '*.h' -o -name '*.cc' -o -name '*.inc' \) | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "check-format: no C++ files found" >&2
  exit 2
fi
if [ "$mode" = fix ]; then
  "$fmt" --style=file -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! "$fmt" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ "${#bad[@]}" -ne 0 ]; then
  printf 'check-format: %d of %d files are not formatted (scripts/check-format.sh --fix):\n' "${#bad[@]}" "${#files[@]}"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files OK"
