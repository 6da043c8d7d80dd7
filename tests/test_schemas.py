"""What the program generates, checked against contracts written by others.

ESO CRDs and Helm values schema (external-secrets v2.9.0), the Pulumi project schema,
the Kubernetes built-in schemas shipped by `kubernetes-validate`, and the OCI SDK's
request models for vault, key and secret.
"""

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import oci
import pytest
import yaml

from offline.harness import PROJECT_DIR, STACKS, ProgramRun

KUBERNETES_VERSION = "1.34"


@functools.cache
def crd_spec_schema(schemas_dir: Path, plural: str) -> dict[str, Any]:
    """The served v1 spec schema of an ESO CRD (read once: the store CRDs are 700 kB of YAML)."""
    text = (schemas_dir / "external-secrets-v2.9.0" / f"external-secrets.io_{plural}.yaml").read_text()
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    [v1] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    assert v1["served"] is True
    return v1["schema"]["openAPIV3Schema"]["properties"]["spec"]


def validate(schema: dict[str, Any], instance: Any) -> None:
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("type_", "plural"), [("ExternalSecret", "externalsecrets"), ("SecretStore", "secretstores")])
def test_eso_objects_match_the_crds(stack_runs, schemas_dir, stack, type_, plural):
    """Every SecretStore and ExternalSecret spec is valid for ESO 2.9.0's served v1 CRD."""
    schema = crd_spec_schema(schemas_dir, plural)
    objects = stack_runs[stack].of_type(f"kubernetes:external-secrets.io/v1:{type_}")
    assert objects
    for registration in objects:
        assert registration.inputs["apiVersion"] == "external-secrets.io/v1"
        validate(schema, registration.plain_inputs["spec"])


def test_a_broken_store_is_refused_by_the_crd(schemas_dir):
    """The CRD check can fail: a store without its required region is invalid."""
    schema = crd_spec_schema(schemas_dir, "secretstores")
    with pytest.raises(AssertionError):
        validate(schema, {"provider": {"oracle": {"vault": "v", "principalType": "Workload"}}})


def test_operator_values_match_the_chart_schema(stack_runs, schemas_dir):
    """The Helm values of the ESO 2.9.0 release are valid for the chart's own values schema."""
    schema = json.loads((schemas_dir / "external-secrets-v2.9.0" / "helm-values.schema.json").read_text())
    # Production's own cluster and its standby cluster (disasterRecovery.standby) install the same release.
    releases = [r for r in stack_runs["production"].of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "external-secrets"]
    assert len(releases) == 2
    for release in releases:
        assert (release.inputs["chart"], release.inputs["version"]) == ("external-secrets", "2.9.0")
        assert release.inputs["repositoryOpts"] == {"repo": "https://charts.external-secrets.io"}
        validate(schema, release.plain_inputs["values"])
        assert release.inputs["values"]["processClusterStore"] is False
        assert release.inputs["values"]["processPushSecret"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_builtin_kubernetes_objects_match_the_official_schemas(stack_runs, stack):
    """Namespace and ServiceAccount are valid Kubernetes objects (kubernetes-validate, strict)."""
    run: ProgramRun = stack_runs[stack]
    objects = run.of_type("kubernetes:core/v1:Namespace") + run.of_type("kubernetes:core/v1:ServiceAccount")
    assert len(objects) == 2 * len(run.of_type("pulumi:providers:kubernetes"))  # per cluster, a standby's too
    for registration in objects:
        kubernetes_validate.validate(registration.plain_inputs, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(("folder", "name"), [(".", "ecommerce-kms-vault"), ("iam", "ecommerce-kms-vault-iam")])
def test_project_file_matches_the_pulumi_project_schema(schemas_dir, folder, name):
    """Pulumi.yaml (the main program's, and the IAM program's) is valid for the CLI's own project schema."""
    schema = json.loads((schemas_dir / "pulumi-project.schema.json").read_text())
    project = yaml.safe_load((PROJECT_DIR / folder / "Pulumi.yaml").read_text())
    validate(schema, project)
    assert project["name"] == name
    assert project["runtime"]["name"] == "python"


def no_unknown_enum(model: Any) -> None:
    """The OCI SDK turns some unknown enum values into UNKNOWN_ENUM_VALUE instead of raising."""
    assert "UNKNOWN_ENUM_VALUE" not in str(oci.util.to_dict(model))


def rule_model(rule: dict[str, Any]) -> Any:
    models = {"SECRET_REUSE_RULE": oci.vault.models.SecretReuseRule, "SECRET_EXPIRY_RULE": oci.vault.models.SecretExpiryRule}
    return models.get(rule["ruleType"], oci.vault.models.SecretRule)(
        rule_type=rule["ruleType"],
        **({"is_enforced_on_deleted_secret_versions": rule["isEnforcedOnDeletedSecretVersions"]}
           if "isEnforcedOnDeletedSecretVersions" in rule else {}),
    )


@pytest.mark.parametrize("stack", STACKS)
def test_vault_key_and_secret_inputs_are_accepted_by_the_oci_request_models(stack_runs, stack):
    """CreateVaultDetails, CreateKeyDetails and CreateSecretDetails accept every value the program sends."""
    run = stack_runs[stack]
    for vault in run.of_type("oci:Kms/vault:Vault"):  # the replicas' too
        no_unknown_enum(
            oci.key_management.models.CreateVaultDetails(
                compartment_id=vault.inputs["compartmentId"],
                display_name=vault.inputs["displayName"],
                vault_type=vault.inputs["vaultType"],
            )
        )
    for key in run.of_type("oci:Kms/key:Key"):
        key_accepted(key)
    for secret in run.of_type("oci:Vault/secret:Secret"):
        secret_accepted(secret)


def key_accepted(key: Any) -> None:
    shape = key.inputs["keyShape"]
    # The SDK does not check key lengths: AES takes 16, 24 or 32 bytes, and 32 is asked for.
    assert shape["length"] == 32
    no_unknown_enum(
        oci.key_management.models.CreateKeyDetails(
            compartment_id=key.inputs["compartmentId"],
            display_name=key.inputs["displayName"],
            key_shape=oci.key_management.models.KeyShape(algorithm=shape["algorithm"], length=int(shape["length"])),
            protection_mode=key.inputs["protectionMode"],
        )
    )


def secret_accepted(secret: Any) -> None:
    inputs = secret.plain_inputs
    content = inputs.get("secretContent")
    generation = inputs.get("secretGenerationContext")
    replication = inputs.get("replicationConfig")
    no_unknown_enum(
        oci.vault.models.CreateSecretDetails(
            compartment_id=inputs["compartmentId"],
            vault_id=inputs["vaultId"],
            key_id=inputs["keyId"],
            secret_name=inputs["secretName"],
            metadata=inputs["metadata"],
            enable_auto_generation=inputs.get("enableAutoGeneration"),
            secret_content=content
            and oci.vault.models.Base64SecretContentDetails(content_type=content["contentType"], content=content["content"]),
            secret_generation_context=generation
            and oci.vault.models.PassphraseGenerationContext(
                generation_type=generation["generationType"],
                generation_template=generation["generationTemplate"],
                passphrase_length=int(generation["passphraseLength"]),
                secret_template=generation["secretTemplate"],
            ),
            secret_rules=[rule_model(rule) for rule in inputs.get("secretRules", [])],
            replication_config=replication and oci.vault.models.ReplicationConfig(
                replication_targets=[
                    oci.vault.models.ReplicationTarget(
                        target_region=t["targetRegion"], target_vault_id=t["targetVaultId"], target_key_id=t["targetKeyId"]
                    )
                    for t in replication["replicationTargets"]
                ],
                is_write_forward_enabled=replication["isWriteForwardEnabled"],
            ),
        )
    )


def test_the_oci_model_check_can_fail():
    """The enum check catches what the SDK silently accepts (a wrong generation template)."""
    with pytest.raises(AssertionError):
        no_unknown_enum(
            oci.vault.models.PassphraseGenerationContext(generation_type="PASSPHRASE", generation_template="BYTES_512")
        )
    with pytest.raises(ValueError):
        oci.key_management.models.CreateVaultDetails(vault_type="SHARED")
