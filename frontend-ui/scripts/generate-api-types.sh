#!/usr/bin/env bash
# Regenerates the UI's API types (src/app/core/api/schema.ts, or the file named as $1) from the API's own OpenAPI
# schema, create_app().openapi(). tests/ui/test_api_types.py runs this and fails when the committed file differs.
set -euo pipefail
ui="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$ui")"
out="$(realpath -m "${1:-$ui/src/app/core/api/schema.ts}")"
python="${PYTHON:-$root/.venv/bin/python}"
spec="$(mktemp --suffix=.json)"
trap 'rm -f "$spec"' EXIT
(cd "$root" && "$python" -c "import json; from api.main import create_app; print(json.dumps(create_app().openapi()))") >"$spec"
# Fields with a default are optional in request bodies (the API fills them in): not "non-nullable".
"$ui/node_modules/.bin/openapi-typescript" "$spec" --default-non-nullable false --output "$out" >/dev/null
