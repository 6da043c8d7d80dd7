"""Where uv is: beside the running interpreter (the `test` dependency group installs it), else on PATH.

The suite and the benchmark build environments the way the Pulumi CLI's uv toolchain and the
workflows do (`uv sync --locked`), with this same uv.
"""

import shutil
import sys
from pathlib import Path


def uv_executable() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found: install the test group (`uv sync --locked --group test`) or put uv on PATH")
    return found
