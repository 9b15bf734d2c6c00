#!/usr/bin/env bash
# Regenerates the README's screenshots from the demo case, in a real window
# on a virtual X server: assets/screenshots/*.png.
# Needs bin/l4case (./run build) and xvfb-run (./run test installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/l4case
demo=$($bin demo --headless 2>&1 >/dev/null | sed -n 's/^demo case: \([^ ]*\).*/\1/p' | head -1)
[ -n "$demo" ] || { echo "no demo case" >&2; exit 1; }
shot() { xvfb-run -a -s "-screen 0 1280x800x24" "$bin" gui "$demo" "$@"; }
shot --screen diagnosis --screenshot assets/screenshots/diagnosis.png
shot --screen evidence --screenshot assets/screenshots/evidence.png
shot --trace 9fwb4faucmwy15vd4es8 --screenshot assets/screenshots/timeline.png
shot --screen views --screenshot assets/screenshots/views.png
shot --screen sql --screenshot assets/screenshots/sql.png
