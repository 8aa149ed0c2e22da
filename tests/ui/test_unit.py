"""The UI's unit tests (Karma and Jasmine in headless Chromium) as part of `make test`."""

import os
import subprocess

import pytest

from tests.ui.node import require_chromium, require_node_modules


@pytest.mark.timeout(1500)  # compiling the tests and starting Chromium take minutes on a busy machine
def test_ui_unit_tests_pass():
    ui = require_node_modules()
    chromium = require_chromium()
    ng = str(ui / "node_modules" / ".bin" / "ng")
    result = subprocess.run(
        [ng, "test", "--watch=false", "--browsers=ChromeHeadlessCI", "--no-progress"],
        cwd=ui,
        env={**os.environ, "CHROME_BIN": chromium, "CI": "1", "NG_CLI_ANALYTICS": "false", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=1400,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, "ng test failed:\n" + "\n".join(output.splitlines()[-150:])
    assert "Executed" in output and "SUCCESS" in output, output[-5000:]
