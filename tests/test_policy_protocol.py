"""The policy pack as the Pulumi CLI runs it: its own virtualenv, launched by the language host's
command, spoken to over the analyzer gRPC protocol (`offline/crossguard.py`).

A rule counts as tested only here: every rule fires on a broken resource and the real stacks get
exactly the offline plan's verdicts, through the same proxies, config and encodings as in a real
`pulumi preview --policy-pack policy --policy-pack-config policy/config.json`.
"""

import base64
import dataclasses
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from components.iam_settings import IAM_PROJECT
from components.naming import DEFAULT_SERVICES
from offline.crossguard import PACK_DIR, ConfigRefused, Diagnostic, PackSession, properties, sync_pack_environment
from offline.harness import (
    PROJECT_DIR, SECRET_MARK, SECRET_SIG, STACKS, ProgramRun, Registration, placeholder_database_urls, run_stack,
)
from offline.policy_checks import PACK_CONFIG, check, pack_config, rules
from tests.conftest import PINNED_TODAY, UNLISTED_COMPARTMENT
from tests.test_rotation import generation_of

URLS = placeholder_database_urls(DEFAULT_SERVICES)


def launched(make: Callable[[str], PackSession]) -> Iterator[dict[str, PackSession]]:
    """One pack per stack, launched concurrently, configured with the committed policy/config.json."""
    sync_pack_environment()
    with ThreadPoolExecutor(len(STACKS)) as pool:
        sessions = dict(zip(STACKS, pool.map(make, STACKS), strict=True))
    try:
        for session in sessions.values():
            session.configure(PACK_CONFIG.read_text())
        yield sessions
    finally:
        for session in sessions.values():
            session.close()


@pytest.fixture(scope="module")
def packs(stack_runs) -> Iterator[dict[str, PackSession]]:
    """The environment stacks' packs. Each is handed its stack's database URLs (the mocks' placeholders) as the
    engine hands them: decrypted, in PULUMI_CONFIG; they serve as canaries for any secret value the pack might print.
    """
    yield from launched(lambda s: PackSession(stack_runs[s], database_urls=URLS))


@pytest.fixture(scope="module")
def iam_packs(iam_runs) -> Iterator[dict[str, PackSession]]:
    """The IAM stacks' packs: the IAM program's CI job runs the same pack with the same config."""
    yield from launched(lambda s: PackSession(iam_runs[s], project=IAM_PROJECT))


# Rules about IAM policies: they fire in the IAM program's stacks, where the policies are.
IAM_RULES = ("iam-isolation", "production-deny")


def verdicts(found: list[Diagnostic]) -> list[tuple[str, str, str]]:
    return sorted((d.policy, d.level, d.message) for d in found)


def plan_verdicts(run: ProgramRun) -> list[tuple[str, str, str]]:
    return sorted((rule.name, rule.level, message) for rule, message in check(run, pack_config()))


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_stacks_get_the_plans_verdicts_through_the_protocol(stack_runs, packs, stack):
    """Preview of a deployed stack: the pack reports exactly what the offline plan reports, no mandatory violation."""
    found = verdicts(packs[stack].analyze(stack_runs[stack].registrations))
    assert found == plan_verdicts(stack_runs[stack])
    assert [v for v in found if v[1] == "mandatory"] == []


def without_replication(run: ProgramRun, generations: set[int]) -> list[Registration]:
    """The stack's registrations with these JWT generations handed without replicationConfig, as the engine hands
    the analyzers a generation whose ignore_changes holds it (pulumi pkg/resource/deploy/step_generator.go runs
    processIgnoreChanges before the analyzers)."""
    def old(r: Registration) -> bool:
        return ".jwt-secret" in r.inputs.get("secretName", "") and generation_of(r.inputs["secretName"]) in generations
    return [dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "replicationConfig"}) if old(r) else r
            for r in run.registrations]


def test_the_update_that_turns_replication_on_passes_and_a_generation_the_standby_needs_without_it_does_not(stack_runs, packs):
    """The update that turns disasterRecovery on for a deployed stack: the generations up to the deployed next keep
    their old inputs, without replicationConfig (in their ignore_changes), and the pack accepts them. It refuses
    any generation the standby's ExternalSecrets name without it (ESO would fail that whole ExternalSecret), as a
    compromised job might send it (replicas-everywhere). (Reviewer r18: the pack exempted every generation
    without replication; rv1: a fixed number of exempt generations let the standby's signing one through.)"""
    run, pack = stack_runs["production"], packs["production"]
    rotation = run.exports["jwtRotation"].value
    first = int(rotation["replicatedFrom"])
    handed = without_replication(run, set(range(first)))
    assert handed != run.registrations
    assert verdicts(pack.analyze(handed)) == verdicts(pack.analyze(run.registrations))
    for lacking in ({first}, set(range(first + 1))):
        refused = {re.sub(r"^ecommerce-production-(.+)-jwt-secret-v\d+ .*", r"\1", message)
                   for policy, level, message in verdicts(pack.analyze(without_replication(run, lacking)))
                   if policy == "replicas-everywhere" and level == "mandatory" and f"-jwt-secret-v{first} (" in message}
        assert refused == set(DEFAULT_SERVICES), lacking


@pytest.mark.parametrize("stack", STACKS)
def test_the_iam_stacks_get_the_plans_verdicts_through_the_protocol(iam_runs, iam_packs, stack):
    """The IAM program's stacks through the same pack: exactly the offline verdicts, no mandatory violation."""
    found = verdicts(iam_packs[stack].analyze(iam_runs[stack].registrations))
    assert found == plan_verdicts(iam_runs[stack])
    assert [v for v in found if v[1] == "mandatory"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_a_first_preview_defers_what_is_unknown_and_violates_nothing(stack_runs, packs, stack):
    """Nothing created yet: statements reach the pack as the unknown sentinel; rules reading them wait for
    `pulumi up` (an advisory "can't run ... during preview"), every other verdict is the plan's."""
    run = run_stack(stack, today=PINNED_TODAY, first_preview=True)
    found = packs[stack].analyze(run.registrations, first_preview=True)
    deferred = {d.policy for d in found if "can't be known during preview" in d.message}
    assert all(d.level == "advisory" for d in found)
    decided = [d for d in found if d.policy not in deferred]
    # What no unknown value decides is decided as on a deployed stack.
    assert verdicts(decided) == [v for v in plan_verdicts(stack_runs[stack]) if v[0] not in deferred]


def changed(r: Registration, **inputs) -> Registration:
    return dataclasses.replace(r, inputs={**r.inputs, **inputs})


def replacing(type_: str, change: Callable[[Registration], Registration]) -> Callable[[ProgramRun], list[Registration]]:
    """The stack's registrations with the first resource of `type_` changed."""
    def broken(run: ProgramRun) -> list[Registration]:
        target = run.of_type(type_)[0]
        return [change(r) if r is target else r for r in run.registrations]
    return broken


def foreign_key(run: ProgramRun) -> list[Registration]:
    """A staging secret whose keyId comes from production's key (its URN, as a stack reference would give)."""
    production_key = run.of_type(rules.KEY)[0].urn.replace("staging", "production")
    secret = run.of_type(rules.SECRET)[0]
    moved = dataclasses.replace(secret, property_dependencies={**secret.property_dependencies, "keyId": (production_key,)})
    return [moved if r is secret else r for r in run.registrations]


def statement_replaced(old: str, new: str) -> Callable[[Registration], Registration]:
    return lambda r: changed(r, statements=[s.replace(old, new) for s in r.inputs["statements"]])


AUTHORITY = pack_config()["iam-isolation"]["environments"]
PRODUCTION_COMPARTMENT = AUTHORITY["production"]["compartmentId"]
STAGING_COMPARTMENT = AUTHORITY["staging"]["compartmentId"]


def swapped(value, old: str, new: str):
    """`value` with every string equal to `old` replaced by `new`."""
    if isinstance(value, dict):
        return {k: swapped(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [swapped(v, old, new) for v in value]
    return new if value == old else value


def on_productions(key: str) -> Callable[[ProgramRun], list[Registration]]:
    """The stack as its program would register it had its file named production's compartment, cluster
    or namespace: what a stack deployed without the program's own check (a changed program) would send."""
    def broken(run: ProgramRun) -> list[Registration]:
        mine, theirs = AUTHORITY[run.stack][key], AUTHORITY["production"][key]
        return [dataclasses.replace(r, inputs=swapped(r.inputs, mine, theirs)) for r in run.registrations]
    return broken


def on_unlisted_compartment(run: ProgramRun) -> list[Registration]:
    """The stack in a compartment the authority gives nobody (one nested in production's, say)."""
    mine = AUTHORITY[run.stack]["compartmentId"]
    return [dataclasses.replace(r, inputs=swapped(r.inputs, mine, UNLISTED_COMPARTMENT)) for r in run.registrations]


def without_cluster_identifier(run: ProgramRun) -> list[Registration]:
    """A changed program whose Kubernetes provider names no cluster (its kubeconfig could be production's)."""
    return [dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "clusterIdentifier"})
            if r.type == "pulumi:providers:kubernetes" else r for r in run.registrations]


def standby_claiming_the_primary_cluster(run: ProgramRun) -> list[Registration]:
    """A changed program whose standby provider claims the primary's cluster (its kubeconfig still reaches the standby)."""
    [primary] = [r for r in run.of_type("pulumi:providers:kubernetes") if r.name == f"kubernetes-{run.stack}"]
    return [changed(r, clusterIdentifier=primary.inputs["clusterIdentifier"])
            if r.type == "pulumi:providers:kubernetes" else r for r in run.registrations]


def unreplicated(count: int | None) -> Callable[[ProgramRun], list[Registration]]:
    """Production with `count` of its secrets (all: None) registered without their replication config, as a
    program that forgot it, or a JWT generation created without it, would send them."""
    def broken(run: ProgramRun) -> list[Registration]:
        secrets = run.of_type(rules.SECRET)[:count]
        def without(values):
            return {k: v for k, v in values.items() if k != "replicationConfig"}
        return [dataclasses.replace(r, inputs=without(r.inputs), property_dependencies=without(r.property_dependencies))
                if r in secrets else r for r in run.registrations]
    return broken


def replicated(**target) -> Callable[[Registration], Registration]:
    """A secret whose replication targets are its own with `target` changed (a list: that many of them)."""
    def change(r: Registration) -> Registration:
        config = r.inputs["replicationConfig"]
        [own] = config["replicationTargets"]
        copies = target.pop("copies", 1)
        return changed(r, replicationConfig={**config, **target.pop("config", {}),
                                             "replicationTargets": [{**own, **target}] * copies})
    return change


def recovery_key(change: Callable[[Registration], Registration]) -> Callable[[ProgramRun], list[Registration]]:
    """The stack's registrations with the replicas' key changed."""
    def broken(run: ProgramRun) -> list[Registration]:
        [target] = [r for r in run.of_type(rules.KEY) if "-recovery-" in r.name]
        return [change(r) if r is target else r for r in run.registrations]
    return broken


BROKEN: list[tuple[str, str, Callable[[ProgramRun], list[Registration]], str]] = [
    # disasterRecovery (production replicates to eu-amsterdam-1): the replicas' key, a secret left out, a
    # replica in the primary region, more targets than OCI takes, a writable replica, no secret replicating.
    ("key-aes-256", "production", recovery_key(lambda r: changed(r, keyShape={"algorithm": "AES", "length": 24})),
     'ecommerce-production-recovery-key: key shape {"algorithm": "AES", "length": 24} must be AES'),
    ("replicas-everywhere", "production", unreplicated(1),
     "every secret OCI does not generate replicates to the same vault and key"),
    ("replicas-elsewhere", "production", replacing(rules.SECRET, replicated(targetRegion="eu-frankfurt-1")),
     "replicated into its own region eu-frankfurt-1"),
    ("replicas-elsewhere", "production", replacing(rules.SECRET, replicated(copies=4)),
     "4 replication targets; OCI allows at most 3"),
    ("replicas-elsewhere", "production", replacing(rules.SECRET, replicated(config={"isWriteForwardEnabled": True})),
     "write forwarding makes a replica writable"),
    ("secrets-own-vault-and-key", "production", unreplicated(None),
     "at most one more of each for their replicas (found 2 and 2)"),
    # No secret replicating in production, whose standby cluster the authority records (a stack file that
    # dropped disasterRecovery): nothing left to compare, refused all the same.
    ("replicas-everywhere", "production", unreplicated(None),
     "policy/config.json records a standby cluster (standbyClusterId) for it, yet no secret replicates"),
    ("key-aes-256", "production",
     replacing(rules.KEY, lambda r: changed(r, keyShape={"algorithm": "AES", "length": 16})),
     'key shape {"algorithm": "AES", "length": 16} must be AES'),
    ("key-rotation", "production",
     replacing(rules.KEY, lambda r: changed(r, freeformTags={**r.inputs["freeformTags"], "rotation-interval-days": "120"})),
     "rotates every 120 days; at most 90 in production"),
    ("key-rotation", "staging",
     replacing(rules.KEY, lambda r: changed(r, freeformTags={**r.inputs["freeformTags"], "rotation-method": "manual"})),
     "must rotate automatically"),
    ("native-rotation-vault-type", "staging",
     replacing(rules.KEY, lambda r: changed(r, isAutoRotationEnabled=True)),
     "native auto-rotation needs a VIRTUAL_PRIVATE vault"),
    ("secrets-own-vault-and-key", "staging", foreign_key, "keyId must come from this stack's own key"),
    ("iam-isolation", "staging",
     replacing(rules.POLICY, statement_replaced(STAGING_COMPARTMENT, PRODUCTION_COMPARTMENT)),
     f"names production's {PRODUCTION_COMPARTMENT}"),
    ("iam-isolation", "staging",
     replacing(rules.POLICY, lambda r: changed(r, statements=["Allow any-user to read secret-bundles in tenancy"])),
     "`any-user` without workload conditions grants everyone"),
    ("sync-namespaced", "staging",
     replacing(rules.EXTERNAL_SECRET, lambda r: changed(r, metadata={**r.inputs["metadata"], "namespace": "ecommerce-production"})),
     'in namespace "ecommerce-production"; staging\'s namespace is "ecommerce-staging"'),
    ("sync-namespaced", "staging",
     replacing(rules.SECRET_STORE, lambda r: dataclasses.replace(r, type=rules.CLUSTER_SECRET_STORE)),
     "a ClusterSecretStore lets every namespace read this vault"),
    *((("neighbours-refused", stack, on_productions(key), f"is production's, and the guardrail authority (policy/config.json) "
        f"allows {stack} only {AUTHORITY[stack][key]}: fix Pulumi.{stack}.yaml")
       for stack in ("staging", "development") for key in ("compartmentId", "clusterId", "namespace"))),
    # An allow-list: not only a neighbour's value, anything that is not this stack's own entry.
    ("neighbours-refused", "staging", on_unlisted_compartment,
     f'its compartment "{UNLISTED_COMPARTMENT}" the guardrail authority (policy/config.json) allows staging only '
     f"{STAGING_COMPARTMENT}: fix Pulumi.staging.yaml"),
    # Fail closed: a Kubernetes object on a provider that names no cluster could be on anyone's.
    ("neighbours-refused", "staging", without_cluster_identifier, "its Kubernetes provider names no cluster"),
    # A claim is the provider's own word: two configurations claiming one cluster hide where one of them goes.
    ("one-provider-per-cluster", "production", standby_claiming_the_primary_cluster,
     f"cluster {AUTHORITY['production']['clusterId']}: 2 different Kubernetes provider configurations claim it"),
    ("key-rotation", "staging",
     replacing(rules.KEY, lambda r: changed(r, freeformTags={**r.inputs["freeformTags"], "rotation-interval-days": "200"})),
     "rotates every 200 days; at most 180 in staging"),
    ("production-protected", "production",
     replacing(rules.VAULT, lambda r: dataclasses.replace(r, protect=False)),
     "must be protected"),
    ("manual-rotation", "development", lambda run: run.registrations, "development rotates this key manually"),
    ("production-hsm", "production",
     replacing(rules.KEY, lambda r: changed(r, protectionMode="SOFTWARE")),
     "production keys belong in an HSM"),
    ("production-deny", "production", lambda run: run.registrations, "no IAM policy holds a Deny statement"),
]


def test_every_rule_has_a_broken_case_through_the_protocol():
    """No rule counts as tested until the protocol shows it firing: a new rule without a case fails here."""
    assert {rule for rule, *_ in BROKEN} == {rule.name for rule in rules.RULES}


@pytest.mark.parametrize(("rule", "stack", "broken", "expected"), BROKEN,
                         ids=[f"{rule}-{i}" for i, (rule, *_) in enumerate(BROKEN)])
def test_each_rule_fires_on_its_broken_case(stack_runs, iam_runs, packs, iam_packs, rule, stack, broken, expected):
    """The rule reports the broken resource at its own level, with values printed as values (no proxy, no 90.0)."""
    runs, sessions = (iam_runs, iam_packs) if rule in IAM_RULES else (stack_runs, packs)
    found = [d for d in sessions[stack].analyze(broken(runs[stack])) if d.policy == rule]
    level = next(r.level for r in rules.RULES if r.name == rule)
    assert found and all(d.level == level for d in found)
    assert any(expected in d.message for d in found), [d.message for d in found]
    assert not any("object at 0x" in d.message or re.search(r"\d\.0\b", d.message) for d in found)


def test_deny_statements_in_any_of_productions_policies_satisfy_the_advisory(iam_runs, iam_packs):
    """Deny statements may live in an IAM policy of their own: production-deny looks across all of them."""
    run = iam_runs["production"]
    [policy] = [p for p in run.of_type(rules.POLICY) if p.inputs["name"] == "ecommerce-production-secrets-access"]
    deny_policy = dataclasses.replace(
        policy, name=f"{policy.name}-deny", urn=f"{policy.urn}-deny",
        inputs={**policy.inputs, "statements": ["Deny any-user to read secret-family in tenancy where all {request.principal.type = 'workload'}"]},
    )
    found = iam_packs["production"].analyze([*run.registrations, deny_policy])
    assert [d for d in found if d.policy == "production-deny"] == []


def test_no_secret_value_reaches_a_message_or_the_packs_output(stack_runs, packs):
    """The pack receives the database URLs (as the engine's secret envelopes, and decrypted in PULUMI_CONFIG)
    and prints none of them."""
    secret = next(r for r in stack_runs["production"].of_type(rules.SECRET) if r.is_secret("secretContent"))
    assert properties(secret.inputs, skip_internal=True)["secretContent"][SECRET_SIG] == SECRET_MARK
    found = packs["production"].analyze(stack_runs["production"].registrations)
    printed = "".join(packs["production"].stdout + packs["production"].stderr) + json.dumps([d.message for d in found])
    for url in URLS.values():
        assert url not in printed and base64.b64encode(url.encode()).decode() not in printed


REAL = pack_config()["key-rotation"]


def with_key(path: str, value) -> dict:
    """The real config of every configured policy, with `path` (dotted) set to `value` (None: removed)."""
    config = json.loads(json.dumps(REAL))
    *parents, last = path.split(".")
    target = config
    for part in parents:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return {name: config for name in pack_config()}


def renamed(old: str, new: str) -> dict:
    config = {(new if k == old else k): v for k, v in REAL.items()}
    return {name: config for name in pack_config()}


# (case, config given, what the engine says when it refuses it at Configure).
CONFIG_SHAPES = [
    ("no config", None, "'environments' is a required property"),
    ("misspelled key", renamed("maxRotationDays", "maxRotationDay"), "'maxRotationDays' is a required property"),
    ("days as text", with_key("maxRotationDays.production", "ninety"),
     "maxRotationDays.production: 'ninety' is not of type 'integer'"),
    ("days out of range", with_key("maxRotationDays.production", 400),
     "maxRotationDays.production: 400 is greater than the maximum of 365"),
    ("a rotating environment without a ceiling", with_key("maxRotationDays.production", None),
     "maxRotationDays: 'production' is a required property"),
    ("an environment as a string", with_key("environments.staging", "ecommerce-staging"),
     "environments.staging: 'ecommerce-staging' is not of type 'object'"),
    ("an identifier of the wrong shape", with_key("environments.production.compartmentId", "ocid1.vault.oc1..aaaa"),
     "environments.production.compartmentId: 'ocid1.vault.oc1..aaaa' does not match"),
    ("an unknown nested key", with_key("environments.production.compartmentID", "x"), "'compartmentID' was unexpected"),
    ("an environment that does not say who installs the operators", with_key("environments.staging.installsOperators", None),
     "'installsOperators' is a required property"),
    ("a config for no policy", {**pack_config(), "iam-isolaton": REAL}, "invalid enforcement level '' for 'iam-isolaton'"),
    ("environments at the top level (reserved by the engine)", {"environments": REAL["environments"]},
     '"environments" must be an array of strings'),
]


@pytest.fixture
def staging_pack(packs) -> Iterator[PackSession]:
    """The staging pack, configured again with the real config afterwards (a refused Configure keeps it anyway)."""
    yield packs["staging"]
    packs["staging"].configure(PACK_CONFIG.read_text())


@pytest.mark.parametrize(("given", "engine_says"), [c[1:] for c in CONFIG_SHAPES], ids=[c[0] for c in CONFIG_SHAPES])
def test_a_bad_pack_config_is_refused_at_configure_naming_the_key(staging_pack, given, engine_says):
    """Refused by the engine's own validation before any resource is analyzed (config.go; the pack has no
    check of its own: pulumi_policy's public API offers none, and none is needed)."""
    with pytest.raises(ConfigRefused) as refused:
        staging_pack.configure(None if given is None else json.dumps(given))
    assert engine_says in str(refused.value)


def test_an_unknown_top_level_key_is_let_through_and_changes_no_verdict(stack_runs, staging_pack):
    """The engine keeps only `properties` and `required` of the top-level schema (config.go, convertSchema), so
    an extra key passes; every key a rule reads is required, so the pack's verdicts stay the committed config's."""
    staging_pack.configure(json.dumps(with_key("denyRequired", True)))
    assert verdicts(staging_pack.analyze(stack_runs["staging"].registrations)) == plan_verdicts(stack_runs["staging"])


def test_the_pack_project_is_what_the_cli_loads():
    """PulumiPolicy.yaml parses with only PolicyPackProject's fields, uses the uv toolchain and carries the
    pack's version; the pack runs the very SDK versions the suite tests with (same pins in both locks)."""
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert set(project) <= {"runtime", "version", "main", "description", "author", "website", "license"}
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    pyproject = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())
    assert project["version"] == pyproject["project"]["version"]

    def locked(lock: str) -> dict[str, str]:
        return {p["name"]: p["version"] for p in tomllib.loads((PROJECT_DIR / lock).read_text())["package"] if "version" in p}

    pack, program = locked("policy/uv.lock"), locked("uv.lock")
    assert {name: pack[name] for name in pack.keys() & program.keys()} == {name: program[name] for name in pack.keys() & program.keys()}
    assert {"pulumi", "pulumi-policy"} <= pack.keys() & program.keys()
