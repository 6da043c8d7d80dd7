"""The three real stack files, run through the real `__main__.py` under Pulumi's mocks."""

import json
from datetime import date, timedelta

import pytest

from components.naming import DEFAULT_SERVICES, PROJECT, SECRET_KINDS, oci_secret_name, secret_path, vault_name
from offline.harness import STACKS, ProgramRun, run_program, run_stack, stack_file_config
from tests.conftest import PINNED_TODAY

VAULT = "oci:Kms/vault:Vault"
KEY = "oci:Kms/key:Key"
KEY_VERSION = "oci:Kms/keyVersion:KeyVersion"
SECRET = "oci:Vault/secret:Secret"
POLICY = "oci:Identity/policy:Policy"
STORE = "kubernetes:external-secrets.io/v1:SecretStore"
TOPIC = "oci:Ons/notificationTopic:NotificationTopic"
RULE = "oci:Events/rule:Rule"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"


def only(run: ProgramRun, type_: str):
    [registration] = run.own(type_)
    return registration


def guard_urn(run: ProgramRun) -> str:
    [reference] = [r for r in run.reads if r.type == "pulumi:pulumi:StackReference"]
    return reference.urn


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_waits_for_the_replacement_guard(stack_runs, stack):
    """No cloud or cluster object is registered before the deployed state has been checked."""
    run = stack_runs[stack]
    assert all(guard_urn(run) in r.depends_on for r in run.resources)


def jwt_generations(run: ProgramRun) -> list[int]:
    """The JWT secret generations a run declares: signing and next, and the one before from the first rotation on."""
    return sorted({int(s.inputs["metadata"]["generation"]) for s in run.own(SECRET) if "generation" in s.inputs["metadata"]})


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_creates_the_described_inventory(stack_runs, stack):
    """One vault, one key, 22 logical secrets (plus the previous JWT generation during its overlap), one
    namespaced store, 11 ExternalSecrets, a topic and an Events rule per environment."""
    run = stack_runs[stack]
    counts = {t: len(run.own(t)) for t in (VAULT, KEY, STORE, EXTERNAL_SECRET, POLICY, TOPIC, RULE)}
    assert counts == {VAULT: 1, KEY: 1, STORE: 1, EXTERNAL_SECRET: 11, POLICY: 0, TOPIC: 1, RULE: 1}
    assert len({s.inputs["metadata"]["path"] for s in run.own(SECRET)}) == 22
    assert len(run.own(SECRET)) == 11 + 11 * len(jwt_generations(run))
    assert not [r for r in run.registrations if "ClusterSecretStore" in r.type]


@pytest.mark.parametrize("stack", STACKS)
def test_names_follow_the_product_description(stack_runs, stack):
    """Vault `ecommerce-<env>-vault` of type DEFAULT; each secret carries its logical path."""
    run = stack_runs[stack]
    vault = only(run, VAULT)
    assert (vault.inputs["displayName"], vault.inputs["vaultType"]) == (vault_name(stack), "DEFAULT")
    expected = {
        oci_secret_name(service, kind, generation): secret_path(stack, service, kind)
        for service in DEFAULT_SERVICES
        for kind in SECRET_KINDS
        for generation in (jwt_generations(run) if kind == "jwt-secret" else [0])
    }
    actual = {s.inputs["secretName"]: s.inputs["metadata"]["path"] for s in run.own(SECRET)}
    assert actual == expected
    assert all(s.inputs["freeformTags"]["path"] == s.inputs["metadata"]["path"] for s in run.own(SECRET))


@pytest.mark.parametrize("stack", STACKS)
def test_master_key_is_aes_256(stack_runs, stack):
    """The master key is AES with a 32-byte (256-bit) length."""
    key = only(stack_runs[stack], KEY)
    assert key.inputs["keyShape"] == {"algorithm": "AES", "length": 32}


@pytest.mark.parametrize("stack", STACKS)
def test_every_secret_uses_its_own_environments_vault_key_and_compartment(stack_runs, stack):
    """No secret of an environment is stored in, or encrypted by, anything but that environment's vault and key."""
    run = stack_runs[stack]
    vault, key = only(run, VAULT), only(run, KEY)
    compartment = stack_file_config(stack)[f"{PROJECT}:compartmentId"]
    for secret in run.own(SECRET):
        assert secret.inputs["vaultId"] == f"<{vault.name}-id>"
        assert secret.inputs["keyId"] == f"<{key.name}-id>"
        assert secret.inputs["compartmentId"] == compartment
        assert set(secret.property_dependencies["vaultId"]) == {vault.urn}
        assert set(secret.property_dependencies["keyId"]) == {key.urn}


@pytest.mark.parametrize(
    ("stack", "method", "interval", "version"),
    [("production", "keyVersion", "90", 4), ("staging", "keyVersion", "180", 4), ("development", "manual", None, 3)],
)
def test_rotation_per_environment(stack_runs, stack, method, interval, version):
    """Strict rotates every 90 days, moderate every 180, relaxed is manual; the schedule is tagged on the key.
    A year after version 3 took over, a rotating stack creates version 4; a manual one keeps 3."""
    run = stack_runs[stack]
    key = only(run, KEY)
    tags = key.inputs["freeformTags"]
    assert tags["rotation-method"] == method
    assert tags.get("rotation-interval-days") == interval
    # A DEFAULT vault has no native auto-rotation: asking OCI for it would fail at the API.
    assert key.inputs["isAutoRotationEnabled"] is False
    versions = run.own(KEY_VERSION)
    assert [v.name for v in versions] == [f"{key.name}-v{version}"]
    assert run.exports["keyRotation"].value["version"] == version


def test_a_clock_past_the_due_date_creates_exactly_the_next_key_version(stack_runs):
    """On the due day the next KeyVersion replaces the current one in the program, and neither can destroy key material."""
    before = stack_runs["production"]
    deployed = {name: export.value for name, export in before.exports.items()}
    due = date.fromisoformat(before.exports["keyRotation"].value["nextDue"])
    assert due > PINNED_TODAY
    after = run_stack("production", today=due, deployed=deployed)
    day_before = run_stack("production", today=due - timedelta(days=1), deployed=deployed)
    names = lambda run: [v.name for v in run.own(KEY_VERSION)]  # noqa: E731
    assert names(day_before) == names(before) == ["ecommerce-production-key-v4"]
    assert names(after) == ["ecommerce-production-key-v5"]
    for version in before.of_type(KEY_VERSION) + after.of_type(KEY_VERSION):
        # Dropped from the program, a KeyVersion is only forgotten by Pulumi, never deleted in OCI;
        # and it must not inherit protect, or Pulumi could not even forget it.
        assert version.retain_on_delete is True
        assert version.protect is False
    unchanged = lambda run: {r.urn for r in run.registrations if r.type != KEY_VERSION and "jwt-secret-v" not in r.urn}  # noqa: E731
    assert unchanged(after) == unchanged(before)


@pytest.mark.parametrize(("stack", "protected"), [("production", True), ("staging", False), ("development", False)])
def test_vault_and_key_are_protected_everywhere_secrets_in_strict_stacks(stack_runs, stack, protected):
    """Replacing the vault or key replaces every secret, so no stack lets the engine do it unasked
    (it refuses to replace a protected resource: pulumi/pulumi step_generator.go); the strict preset
    also protects the secrets, the namespace and the operator release."""
    run = stack_runs[stack]
    assert all(r.protect for r in run.own(VAULT) + run.own(KEY))
    urls = [s for s in run.own(SECRET) if s.inputs["secretName"].endswith(".database-url")]
    others = urls + run.own("kubernetes:core/v1:Namespace") + run.own("kubernetes:helm.sh/v3:Release")
    assert {r.protect for r in others} == {protected}
    # Retiring the generation before last is what a JWT rotation does: those are never protected.
    assert not any(s.protect for s in run.own(SECRET) if ".jwt-secret" in s.inputs["secretName"])


@pytest.mark.parametrize("stack", STACKS)
def test_only_explicit_providers_are_used(stack_runs, stack):
    """Default providers are disabled; every resource names its provider (IAM is the IAM program's)."""
    run = stack_runs[stack]
    assert stack_file_config(stack)["pulumi:disable-default-providers"] == ["oci", "kubernetes"]
    assert all(r.provider for r in run.resources)
    # With disasterRecovery, the replicas' vault and key are in their region, the standby's objects on its cluster.
    assert {r.provider.split("::")[-2] for r in run.resources if r.type.startswith("oci:Kms") or r.type == SECRET} <= {
        f"oci-{stack}", f"oci-{stack}-recovery"}
    assert {r.provider.split("::")[-2] for r in run.resources if r.type.startswith("kubernetes:")} <= {
        f"kubernetes-{stack}", f"kubernetes-{stack}-standby"}
    own = {r.urn for t in {r.type for r in run.resources} for r in run.own(t)}
    assert all(r.provider.split("::")[-2] in (f"oci-{stack}", f"kubernetes-{stack}") for r in run.resources if r.urn in own)


@pytest.mark.parametrize("stack", STACKS)
def test_external_secrets_wait_for_their_sources(stack_runs, stack):
    """Each ExternalSecret is created after its two secrets and the store, so its first sync works (the IAM
    program granted the reads before the first deployment)."""
    run = stack_runs[stack]
    for external in run.own(EXTERNAL_SECRET):
        service = external.inputs["metadata"]["name"]
        expected = {s.urn for s in run.own(SECRET) if s.inputs["metadata"]["service"] == service}
        expected |= {only(run, STORE).urn, guard_urn(run)}
        assert set(external.depends_on) == expected


@pytest.mark.parametrize("stack", STACKS)
def test_secret_store_authenticates_as_the_environments_own_service_account(stack_runs, stack):
    """Without serviceAccountRef, ESO would use its controller's identity, shared by every environment."""
    store = only(stack_runs[stack], STORE)
    oracle = store.inputs["spec"]["provider"]["oracle"]
    assert oracle["principalType"] == "Workload"
    assert oracle["serviceAccountRef"] == {"name": "ecommerce-secrets-sync"}
    assert store.inputs["metadata"]["namespace"] == f"ecommerce-{stack}"
    # The own cluster's (the standby's name only replicated generations: tests/test_disaster_recovery.py).
    for external in stack_runs[stack].own(EXTERNAL_SECRET):
        assert external.inputs["metadata"]["namespace"] == f"ecommerce-{stack}"
        assert external.inputs["spec"]["secretStoreRef"] == {"name": "oci-vault", "kind": "SecretStore"}
        assert external.inputs["spec"]["refreshInterval"] == "1h"
        keys = {d["secretKey"] for d in external.inputs["spec"]["data"]}
        assert keys == {"DATABASE_URL", "JWT_SECRET", "JWT_SECRET_NEXT"} | (
            {"JWT_SECRET_PREVIOUS"} if len(jwt_generations(stack_runs[stack])) > 2 else set()
        )


def test_database_urls_are_secret_and_jwt_secrets_never_pass_through_pulumi():
    """A real URL reaches OCI only as a secret input, and appears in no export; JWT values are generated by OCI."""
    url = "postgres://app:s3cr3t-pa55@db.internal:5432/orders"
    urls = {service: url for service in DEFAULT_SERVICES}
    run = run_stack("staging", database_urls=urls, today=PINNED_TODAY)
    for secret in run.own(SECRET):
        if secret.inputs["secretName"].endswith(".database-url"):
            assert secret.is_secret("secretContent")
            assert "secretContent" in secret.additional_secret_outputs
        else:
            assert secret.inputs["enableAutoGeneration"] is True
            assert "secretContent" not in secret.inputs
            generation = secret.plain_inputs["secretGenerationContext"]
            assert generation["generationType"] == "PASSPHRASE"
            # OCI's own default template, sent explicitly: what the provider reads back cannot differ.
            assert generation["secretTemplate"] == "%GENERATED_PASSPHRASE%"
    exported = json.dumps({name: export.value for name, export in run.exports.items()}, default=str)
    assert "s3cr3t" not in exported and "czNjcjN0" not in exported
    non_secret_inputs = json.dumps(
        [{k: v for k, v in r.inputs.items() if not r.is_secret(k)} for r in run.registrations], default=str
    )
    assert "s3cr3t" not in non_secret_inputs


def test_adding_a_service_changes_no_existing_urn():
    """Names come from stable identities: a new service only adds resources, it renames none."""
    config = stack_file_config("staging")
    urls = {s: "<url>" for s in (*DEFAULT_SERVICES, "loyalty-service")}
    before = run_program("staging", config, {s: urls[s] for s in DEFAULT_SERVICES}, today=PINNED_TODAY)
    config[f"{PROJECT}:services"] = [*DEFAULT_SERVICES[:3], "loyalty-service", *DEFAULT_SERVICES[3:]]
    after = run_program("staging", config, urls, today=PINNED_TODAY)
    old, new = {r.urn for r in before.registrations}, {r.urn for r in after.registrations}
    assert old <= new
    assert {urn.rsplit("::", 1)[-1] for urn in new - old} == {
        "ecommerce-staging-loyalty-service-database-url",
        "ecommerce-staging-loyalty-service-jwt-secret",  # a first deployment: generation 0 signs, 1 is next
        "ecommerce-staging-loyalty-service-jwt-secret-v1",
        "ecommerce-staging-loyalty-service-external-secret",
    }


def test_outputs_name_what_other_stacks_and_people_need(stack_runs):
    """Vault, key, endpoint, path → secret OCID, namespace, each service's Kubernetes Secret, the deployer's statements; nothing secret."""
    exports = stack_runs["production"].exports
    assert set(exports) == {
        "vaultId", "keyId", "managementEndpoint", "secretIds", "namespace", "kubernetesSecrets", "keyRotation",
        "fixedSettings", "jwtRotation", "reloadAnnotations", "notificationTopicId",
    }
    assert set(exports["secretIds"].value) == {
        secret_path("production", service, kind) for service in DEFAULT_SERVICES for kind in SECRET_KINDS
    }
    assert exports["kubernetesSecrets"].value["auth-service"] == "auth-service-secrets"
    assert not any(export.secret for export in exports.values())


def run_staging_with(**changes) -> ProgramRun:
    config = stack_file_config("staging")
    for key, value in changes.items():
        current = config.get(f"{PROJECT}:{key}")
        config[f"{PROJECT}:{key}"] = {**current, **value} if isinstance(current, dict) else value
    return run_program("staging", config, {s: "<url>" for s in DEFAULT_SERVICES}, today=PINNED_TODAY)


def test_an_adopted_namespace_is_labelled_and_never_deleted():
    """`manageNamespace: adopt` patches the existing namespace and leaves it in place on removal."""
    run = run_staging_with(kubernetes={"manageNamespace": "adopt"})
    assert not run.own("kubernetes:core/v1:Namespace")
    [patch] = run.own("kubernetes:core/v1:NamespacePatch")
    assert patch.retain_on_delete is True
    assert patch.inputs["metadata"]["name"] == "ecommerce-staging"


def test_native_rotation_on_a_virtual_private_vault():
    """On a VIRTUAL_PRIVATE vault OCI rotates the key itself; no KeyVersion is declared."""
    run = run_staging_with(vaultType="VIRTUAL_PRIVATE")
    key = only(run, KEY)
    assert key.inputs["isAutoRotationEnabled"] is True
    assert key.inputs["autoKeyRotationDetails"]["rotationIntervalInDays"] == 180
    assert key.inputs["freeformTags"]["rotation-method"] == "native"
    assert not run.own(KEY_VERSION)
