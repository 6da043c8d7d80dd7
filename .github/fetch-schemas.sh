#!/usr/bin/env bash
# Downloads the reference schemas the tests validate against (written by other projects and
# never copied into this repository) into DIR; then run the tests with ECOMMERCE_SCHEMAS_DIR=DIR.
set -euo pipefail
dest=${1:?usage: .github/fetch-schemas.sh DIR}
eso=https://raw.githubusercontent.com/external-secrets/external-secrets/v2.9.0
mkdir -p "$dest/external-secrets-v2.9.0"
for kind in externalsecrets secretstores clustersecretstores; do
  curl -fsSL "$eso/config/crds/bases/external-secrets.io_$kind.yaml" -o "$dest/external-secrets-v2.9.0/external-secrets.io_$kind.yaml"
done
curl -fsSL "$eso/deploy/charts/external-secrets/values.schema.json" -o "$dest/external-secrets-v2.9.0/helm-values.schema.json"
curl -fsSL "https://raw.githubusercontent.com/pulumi/pulumi/v3.272.0/sdk/go/common/workspace/project.json" \
  -o "$dest/pulumi-project.schema.json"
