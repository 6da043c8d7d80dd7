"""pyright reports no errors on the program, its components and the offline tools."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from offline.harness import PROJECT_DIR


def test_pyright_finds_no_errors():
    """Argument names and types of the pulumi-oci and pulumi-kubernetes calls are checked statically."""
    pyright = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    result = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
    )
    report = json.loads(result.stdout)
    errors = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert not errors, "\n".join(errors)
    assert report["summary"]["filesAnalyzed"] >= 10
