"""CrossGuard entry point: `pulumi preview --policy-pack policy --policy-pack-config policy/config.json`.

The CLI's Python language host runs `.venv/bin/python -u -m pulumi.policy <engine> <this dir>`
with this directory as working directory; `pulumi.policy` runs this file.
"""

from pathlib import Path

import yaml

from ecommerce_pack import serve

serve(version=yaml.safe_load((Path(__file__).parent / "PulumiPolicy.yaml").read_text())["version"])
