#!/bin/bash
# test wrapper: rewrites the engine's TCG arguments per QW_ACCEL / QW_CPU
args=()
for a in "$@"; do
  if [[ -n "${QW_ACCEL:-}" && "$a" == tcg,tb-size=* ]]; then a="$QW_ACCEL"; fi
  args+=("$a")
done
if [[ -n "${QW_CPU:-}" ]]; then args+=(-cpu "$QW_CPU"); fi
echo "$(date +%T) ${args[*]}" >> "${W:-/tmp/tcg-jvm}/qwrap.log"
exec /usr/bin/qemu-system-x86_64 "${args[@]}"
