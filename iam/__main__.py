"""Entry point of the IAM program: read the IAM stack's settings, write the environment's policies.

Run by a tenancy (IAM) administrator, in the home region, before the environment's first
`pulumi up` (docs/isolation.md). The statements come from the same pure builders and tier data
as everything else (`components/iam.py`, `components/presets.py`).
"""

import sys
from pathlib import Path

# The language host puts only this directory on sys.path; the shared components live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402
import pulumi_oci as oci  # noqa: E402

from components.environment_iam import EnvironmentIam  # noqa: E402
from components.iam_settings import read_iam_settings  # noqa: E402
from components.naming import component_name  # noqa: E402

settings = read_iam_settings()
# OCI accepts IAM writes only in the tenancy's home region.
home_region = oci.Provider(f"oci-{settings.environment}-home", region=settings.home_region,
                           config_file_profile=settings.oci_profile)
environment_iam = EnvironmentIam(component_name(settings.environment), settings, home_region)

pulumi.export("policyIds", environment_iam.policy_ids)
