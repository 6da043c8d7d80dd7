"""What the engines that deploy this program require, each rule read from the engine's source.

- Helm refuses a release name longer than 53 characters or outside its pattern
  (helm/helm pkg/chartutil/validate_name.go, ValidateReleaseName); without `name`,
  pulumi-kubernetes names a release `<resource name>-<8 hex>`
  (provider/pkg/provider/helm_release.go assignNameIfAutonameable, sdk resource.NewUniqueHex).
- Helm deletes a chart's CRDs on uninstall unless they carry `helm.sh/resource-policy: keep`.
- pulumi-kubernetes waits on create and update for the condition in `pulumi.com/waitFor`
  (provider/pkg/metadata/overrides.go, ReadyCondition; `condition=<type>` as `kubectl wait`),
  failing after `pulumi.com/timeoutSeconds`; ESO sets condition "Ready" on stores and
  ExternalSecrets (external-secrets apis/externalsecrets/v1/externalsecret_types.go).
- A new vault's management endpoint may not resolve yet when the key is created
  (terraform-provider-oci#1955): the engine runs an after-create hook before it completes the
  vault's registration (pulumi/pulumi pkg/resource/deploy/step.go), so the key waits for it.
"""

import asyncio
import re
from itertools import count

import pulumi
import pytest

from components.vault_endpoint import after_vault_created, wait_until_resolvable
from offline.harness import STACKS

HELM_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HELM_RELEASE_NAME_MAX = 53
RELEASE = "kubernetes:helm.sh/v3:Release"


def release_name_as_deployed(release) -> str:
    return release.inputs.get("name") or f"{release.name}-{'f' * 8}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_helm_release_has_a_name_helm_accepts(stack_runs, stack):
    """The name Helm receives is at most 53 characters of its pattern, and stable between updates."""
    releases = stack_runs[stack].of_type(RELEASE)
    assert releases
    for release in releases:
        name = release_name_as_deployed(release)
        assert len(name) <= HELM_RELEASE_NAME_MAX and HELM_RELEASE_NAME.match(name), name
        assert release.inputs.get("name"), "an autonamed release changes name whenever it is replaced"


def test_the_operator_keeps_its_crds_when_its_release_goes(stack_runs):
    """Uninstalling or replacing the release must not delete every store and ExternalSecret of the cluster."""
    for run in stack_runs.values():
        for release in run.of_type(RELEASE):
            if release.inputs["chart"] == "external-secrets":
                assert release.inputs["values"]["installCRDs"] is True
                assert release.inputs["values"]["crds"]["annotations"] == {"helm.sh/resource-policy": "keep"}


@pytest.mark.parametrize("stack", STACKS)
def test_pulumi_waits_until_every_store_and_externalsecret_is_ready(stack_runs, stack):
    """`pulumi up` fails, naming the object, when the first sync does not work, instead of reporting success."""
    run = stack_runs[stack]
    objects = run.of_type("kubernetes:external-secrets.io/v1:ExternalSecret") + run.of_type(
        "kubernetes:external-secrets.io/v1:SecretStore"
    )
    for registration in objects:
        annotations = registration.inputs["metadata"]["annotations"]
        assert annotations["pulumi.com/waitFor"] == "condition=Ready"
        assert int(annotations["pulumi.com/timeoutSeconds"]) >= 300
    assert len(objects) == 12 * len(run.of_type("pulumi:providers:kubernetes"))  # per cluster, a standby's too


@pytest.mark.parametrize("stack", STACKS)
def test_the_key_waits_for_the_vaults_endpoint_to_resolve(stack_runs, stack):
    """The vault carries the after-create hook, and the key takes its endpoint from the vault."""
    run = stack_runs[stack]
    vaults, keys = run.of_type("oci:Kms/vault:Vault"), run.of_type("oci:Kms/key:Key")  # the replicas' too
    assert len(vaults) == len(keys) >= 1
    vault_of = {v.name.removesuffix("vault"): v for v in vaults}
    for key in keys:
        vault = vault_of[key.name.removesuffix("key")]
        assert vault.after_create_hooks == (f"ecommerce-{stack}-wait-for-management-endpoint",)
        assert key.property_dependencies["managementEndpoint"] == (vault.urn,)


def test_the_hook_returns_once_the_endpoint_resolves():
    """Called the way the engine calls it, with the new vault's outputs; localhost resolves at once."""
    asyncio.run(after_vault_created(
        pulumi.ResourceHookArgs(
            urn="urn:pulumi:staging::p::oci:Kms/vault:Vault::v", id="ocid1.vault", name="v", type="oci:Kms/vault:Vault",
            new_outputs={"managementEndpoint": "https://localhost"},
        )
    ))


def test_an_endpoint_that_never_resolves_fails_with_what_to_do():
    """A `.invalid` name never resolves (RFC 6761): after the timeout the error names the host and the rerun."""
    ticks = count(0, 30)

    async def no_wait(_: float) -> None:
        pass

    with pytest.raises(TimeoutError) as failed:
        asyncio.run(wait_until_resolvable("https://kms-endpoint.invalid", timeout=60, poll=30, sleep=no_wait,
                                          clock=lambda: next(ticks)))
    assert "kms-endpoint.invalid, did not resolve within 60 s" in str(failed.value)
    assert "run `pulumi up` again once `nslookup kms-endpoint.invalid` answers" in str(failed.value)
