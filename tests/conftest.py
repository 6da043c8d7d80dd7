"""Shared fixtures: the three real stacks run once under the mocks, and the reference schemas.

The mocks themselves live in `offline/harness.py`, because the offline plan uses the very
same ones: one mocks class for the whole project.
"""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from components.iam_settings import IAM_PROJECT
from offline.harness import IAM_DIR, PROJECT_DIR, STACKS, ProgramRun, run_iam_stack, run_stack, stack_file_config
from tests.test_typecheck import PYRIGHT_RUN, start_pyright, test_pyright_finds_no_errors

PINNED_TODAY = date(2027, 9, 1)
# An OCID the guardrail authority lists for nobody: in a real tenancy, e.g. a compartment created inside
# production's (OCI policies written `in compartment id <production>` apply to its subcompartments too).
UNLISTED_COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaachildcompartmentofproduction0000000000000000000000"
# What each stack's last update exported a year before: JWT generation 3 signing and key version 3
# current, with generation 4 published, so that the update on PINNED_TODAY is a rotation where the
# stack rotates (three JWT generations in every Secret, a new KeyVersion) and a quiet update where not.
ROTATED_BEFORE = {
    "jwtRotation": {"signing": 3, "next": 4, "since": (PINNED_TODAY - timedelta(days=365)).isoformat()},
    "keyRotation": {"version": 3, "since": (PINNED_TODAY - timedelta(days=365)).isoformat()},
}

SCHEMAS_VARIABLE = "ECOMMERCE_SCHEMAS_DIR"


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, ProgramRun]:
    return {name: run_stack(name, today=PINNED_TODAY, deployed=ROTATED_BEFORE) for name in STACKS}


@pytest.fixture(scope="session")
def iam_runs() -> dict[str, ProgramRun]:
    """The IAM program's three stacks (iam/Pulumi.<env>.yaml)."""
    return {name: run_iam_stack(name) for name in STACKS}


@pytest.fixture(scope="session")
def production_with_denies() -> ProgramRun:
    """Production's IAM stack with the opt-in Deny policy (`iam.denyOtherWorkloads: true`)."""
    config = stack_file_config("production", IAM_DIR)
    config[f"{IAM_PROJECT}:iam"] = {**config[f"{IAM_PROJECT}:iam"], "denyOtherWorkloads": True}
    return run_iam_stack("production", config=config)


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """Schemas written by other projects; never copied into this repository.

    Found at $ECOMMERCE_SCHEMAS_DIR, by default ../shared/schemas beside the checkout.
    Without them the schema tests are skipped, except in CI, where that is a failure.
    """
    path = Path(os.environ.get(SCHEMAS_VARIABLE, PROJECT_DIR.parent / "shared" / "schemas"))
    if not (path / "external-secrets-v2.9.0").is_dir():
        message = (
            f"reference schemas not found at {path}. Run `.github/fetch-schemas.sh DIR` and set "
            f"{SCHEMAS_VARIABLE}=DIR, or point it at a folder holding "
            "external-secrets-v2.9.0/ (the CRDs from external-secrets/external-secrets tag v2.9.0, "
            "config/crds/bases/, and deploy/charts/external-secrets/values.schema.json) and "
            "pulumi-project.schema.json (pulumi/pulumi, sdk/go/common/workspace/project.json)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start pyright at once when its test is selected: it then runs beside the rest of the suite."""
    if any(getattr(item, "function", None) is test_pyright_finds_no_errors for item in items):
        config.stash[PYRIGHT_RUN] = start_pyright()
