"""The UI's API types are generated from the API's OpenAPI schema: the committed file must be what the API says now,
so a change of the API that the UI does not follow fails here (and then, as type errors, in `ng build`)."""

import difflib
import os
import subprocess
import sys

from tests.ui.node import require_node_modules

COMMITTED = "src/app/core/api/schema.ts"


def test_committed_api_types_match_the_api(tmp_path):
    ui = require_node_modules()
    generated = tmp_path / "schema.ts"
    result = subprocess.run(
        ["bash", str(ui / "scripts" / "generate-api-types.sh"), str(generated)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    committed = (ui / COMMITTED).read_text()
    fresh = generated.read_text()
    if fresh != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), fresh.splitlines(), f"{COMMITTED} (committed)", "from the API now", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(
            f"frontend-ui/{COMMITTED} is out of date with the API: run `npm run generate:api` in frontend-ui/ and "
            f"fix what no longer compiles.\n{shown}"
        )
