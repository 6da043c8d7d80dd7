"""pyright reports no errors on the program, its components and the offline tools.

pyright runs for about 20 s in a process of its own; the session starts it as soon as this test
is collected (tests/conftest.py), so it works on the second core while the rest of the suite runs.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from offline.harness import PROJECT_DIR

PYRIGHT_RUN = pytest.StashKey[subprocess.Popen]()


def start_pyright() -> subprocess.Popen:
    pyright = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    return subprocess.Popen(
        [pyright, "--outputjson", "--pythonpath", sys.executable],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_pyright_finds_no_errors(request: pytest.FixtureRequest):
    """Argument names and types of the pulumi-oci and pulumi-kubernetes calls are checked statically."""
    run = request.config.stash.get(PYRIGHT_RUN, None) or start_pyright()
    stdout, stderr = run.communicate(timeout=600)
    report = json.loads(stdout) if stdout else {}
    assert report, stderr
    errors = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert not errors, "\n".join(errors)
    assert report["summary"]["filesAnalyzed"] >= 10
