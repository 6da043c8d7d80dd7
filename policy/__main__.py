"""CrossGuard entry point: `pulumi preview --policy-pack policy --policy-pack-config policy/config.json`.

The CLI's Python language host runs `.venv/bin/python -u -m pulumi.policy <engine> <this dir>`
with this directory as working directory; `pulumi.policy` runs this file.
"""

from ecommerce_pack import serve

serve()
