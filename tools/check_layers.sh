#!/usr/bin/env bash
# Fails when a source folder includes a header from a layer above it. The layers, bottom up:
#   core < datasets < models < threats | trainers < reports(core only) < experiments < apps
# (threats and trainers are siblings: neither sees the other). Run by ctest (layering_test).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
declare -A allowed=(
  [core]="core"
  [datasets]="core datasets"
  [models]="core models"
  [threats]="core models threats"
  [trainers]="core datasets models trainers"
  [reports]="core reports"
  [experiments]="core datasets models threats trainers reports experiments"
  [apps]="core datasets models threats trainers reports experiments apps"
)
bad=0
for folder in "${!allowed[@]}"; do
  [[ -d $folder ]] || continue
  while IFS=: read -r file line inc; do
    top=${inc%%/*}
    [[ -d $top ]] || continue  # system or generated headers
    if [[ " ${allowed[$folder]} " != *" $top "* ]]; then
      echo "$file:$line: $folder/ may not include $inc (layer '$top' is above '$folder'; allowed: ${allowed[$folder]})"
      bad=1
    fi
  done < <(grep -rnoE '^#include "[^"]+"' "$folder" --include='*.h' --include='*.cpp' | sed -E 's/#include "([^"]+)"/\1/')
done
exit $bad
