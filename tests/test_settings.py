"""Bad settings are refused before anything is registered, each with its own clear message."""

import copy
import re
import shlex
import shutil
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.naming import DEFAULT_SERVICES, PROJECT
from components.settings_errors import SettingsError
from components.stack_config import CLOCK_VARIABLE
from offline.doc_commands import doc_files
from offline.harness import PROJECT_DIR, run_program, stack_file_config
from tests.conftest import PINNED_TODAY, UNLISTED_COMPARTMENT

P = f"{PROJECT}:"
URL = "postgres://orders:hunter2-secret@db:5432/orders"


def setting(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set `key` (a path like `kubernetes.namespace`) in a stack's config."""

    def change(config: dict[str, Any]) -> None:
        top, *rest = key.split(".")
        if not rest:
            config[P + top] = value
            return
        config[P + top] = {**config.get(P + top, {}), rest[0]: value}

    return change


def removed(key: str) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        top, *rest = key.split(".")
        if rest:
            config[P + top] = {k: v for k, v in config[P + top].items() if k != rest[0]}
        else:
            del config[P + top]

    return change


# (case, stack, change to its config, database URLs or None for all present, fragments the message must hold)
CASES: list[tuple[str, str, Callable[[dict[str, Any]], None], dict[str, str] | None, list[str]]] = [
    ("IAM settings belong to the IAM program", "staging", setting("iam", {"tier": "strict"}), None,
     [f"{P}iam", "unknown key"]),
    ("unknown top-level key", "staging", setting("compartmentID", "x"), None,
     [f"{P}compartmentID", "unknown key", "compartmentId", "pulumi config rm --path 'compartmentID' --stack staging"]),
    ("unknown nested key", "staging", setting("kubernetes.namspace", "x"), None,
     [f"{P}kubernetes.namspace", "unknown key", "namespace"]),
    ("environment is not the stack", "staging", setting("environment", "production"), None,
     [f"{P}environment = \"production\"", "must equal the stack name 'staging'"]),
    ("unknown environment", "staging", setting("environment", "qa"), None,
     [f"{P}environment = \"qa\"", "'production', 'staging' or 'development'", "has 1 problem(s)"]),
    ("unknown preset", "staging", setting("preset", "paranoid"), None,
     [f"{P}preset = \"paranoid\"", "'strict', 'moderate' or 'relaxed'"]),
    ("malformed compartment OCID", "staging", setting("compartmentId", "ocid1.vault.oc1..abc"), None,
     [f"{P}compartmentId", "OCID of a compartment", "oci iam compartment list"]),
    ("malformed cluster OCID", "staging", setting("kubernetes.clusterId", "my-cluster"), None,
     [f"{P}kubernetes.clusterId = \"my-cluster\"", "OCID of a cluster", "oci ce cluster list --compartment-id"]),
    ("bad region", "staging", setting("region", "Frankfurt"), None,
     [f"{P}region = \"Frankfurt\"", "eu-frankfurt-1"]),
    ("rotation interval above CIS maximum", "staging", setting("keyRotation.intervalDays", 400), None,
     [f"{P}keyRotation.intervalDays = 400", "less than or equal to 365"]),
    ("native rotation on a DEFAULT vault", "staging", setting("keyRotation.method", "native"), None,
     [f"{P}keyRotation.method = \"native\"", "only in VIRTUAL_PRIVATE vaults"]),
    ("native rotation interval below 60 days", "staging",
     lambda c: (setting("vaultType", "VIRTUAL_PRIVATE")(c), setting("keyRotation.intervalDays", 30)(c)), None,
     [f"{P}keyRotation.intervalDays = 30", "60 to 365 days for native rotation"]),
    ("invalid service name", "staging", setting("services", ["auth-service", "Payments"]), None,
     [f"{P}services.1 = \"Payments\"", "ending in '-service'", "--path 'services[1]'"]),
    ("duplicate service", "staging", setting("services", ["auth-service", "auth-service"]), None,
     [f"{P}services", "lists auth-service more than once"]),
    ("service name too long for OCI", "staging", setting("services", ["a" * 40 + "-service"]), None,
     ["within 50 characters"]),
    ("another environment's namespace", "staging", setting("kubernetes.namespace", "ecommerce-production"), None,
     [f"{P}kubernetes.namespace = \"ecommerce-production\"", "belongs to production"]),
    ("another environment's compartment", "staging",
     lambda c: c.update({P + "compartmentId": stack_file_config("production")[P + "compartmentId"]}), None,
     [f"{P}compartmentId", "is production's, and the guardrail authority policy/config.json allows staging only its own "
      "compartment, ocid1.compartment.oc1..aaaaaaaaplaceholderecommercestaging", "(or edit Pulumi.staging.yaml)"]),
    # An OCID nobody lists, e.g. a compartment nested in production's, where every `in compartment id <production>`
    # statement applies too: only staging's own entry is accepted, not "anything but a neighbour's".
    ("a compartment the authority gives nobody", "staging", setting("compartmentId", UNLISTED_COMPARTMENT), None,
     [f"{P}compartmentId = \"{UNLISTED_COMPARTMENT[:40]}", "allows staging only its own compartment"]),
    # `$` matches before a final newline: the OCID shape and the authority compare the whole value.
    ("a neighbour's compartment with a trailing newline", "staging",
     lambda c: c.update({P + "compartmentId": stack_file_config("production")[P + "compartmentId"] + "\n"}), None,
     [f"{P}compartmentId", "must be an OCID of a compartment"]),
    ("a neighbour's cluster with a trailing newline", "staging",
     setting("kubernetes.clusterId", stack_file_config("production")[P + "kubernetes"]["clusterId"] + "\n"), None,
     [f"{P}kubernetes.clusterId", "must be an OCID of a cluster"]),
    ("a key rotating less often than the authority allows", "staging", setting("keyRotation.intervalDays", 200), None,
     [f"{P}keyRotation.intervalDays = 200", "policy/config.json allows staging at most 180 days"]),
    ("missing database URLs", "staging", lambda c: None,
     {s: URL for s in DEFAULT_SERVICES if s not in ("auth-service", "cart-service")},
     ["no URL for auth-service", "no URL for cart-service",
      "pulumi config set --secret --path 'databaseUrls[\"auth-service\"]' --stack staging (it prompts"]),
    ("database URL for an unknown service", "staging", lambda c: None,
     {**{s: URL for s in DEFAULT_SERVICES}, "ghost-service": URL}, ["ghost-service", "not in"]),
    ("no kubeconfig context", "staging", removed("kubernetes.context"), None,
     [f"{P}kubernetes.context is not set", "never uses whatever kubectl context is current"]),
    ("reuse of deleted versions without reuse rule", "development",
     setting("secrets", {"preventReuseOfDeletedVersions": True}), None,
     [f"{P}secrets.preventReuseOfDeletedVersions", "needs secrets.preventReuse: true"]),
    ("wrong type", "staging", setting("kubernetes.installOperator", "sometimes"), None,
     [f"{P}kubernetes.installOperator = \"sometimes\"", "must be true or false"]),
    ("a neighbour on production's cluster", "staging",
     setting("kubernetes.clusterId", stack_file_config("production")[P + "kubernetes"]["clusterId"]), None,
     [f"{P}kubernetes.clusterId", "is production's, and the guardrail authority policy/config.json allows staging only "
      "its own cluster"]),
    ("unknown allowReplacement entry", "staging", setting("allowReplacement", ["homeRegion"]), None,
     [f"{P}allowReplacement.0 = \"homeRegion\"", "'vaultType'"]),
    ("strict tier on another stack's cluster", "production",
     setting("kubernetes.clusterId", stack_file_config("staging")[P + "kubernetes"]["clusterId"]), None,
     [f"{P}kubernetes.clusterId", "is staging's, and the guardrail authority", "allows production only its own cluster, "
      "ocid1.cluster.oc1.eu-frankfurt-1.aaaaaaaaplaceholderecommerceproductioncluster"]),
]


@pytest.mark.parametrize(("stack", "change", "urls", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_settings_are_refused_before_any_resource(stack, change, urls, fragments):
    """Each mistake stops the program with a message naming key, value and fix; nothing is registered."""
    config = copy.deepcopy(stack_file_config(stack))
    change(config)
    with pytest.raises(SettingsError) as refused:
        run_program(stack, config, urls or {s: URL for s in DEFAULT_SERVICES}, today=PINNED_TODAY)
    message = str(refused.value)
    for fragment in fragments:
        assert fragment in message
    assert message.startswith(f"Pulumi.{stack}.yaml has")
    assert "hunter2" not in message
    registered = refused.value.program_run.registrations  # type: ignore[attr-defined]
    assert [r.type for r in registered] == ["pulumi:pulumi:Stack"]


def test_every_case_has_its_own_message():
    """No two cases of the table are satisfied by the same text: each mistake is explained on its own."""
    assert len(CASES) >= 15
    assert len({tuple(c[4]) for c in CASES}) == len(CASES)


def test_plain_text_database_urls_are_refused_without_echoing_them():
    """databaseUrls must be a secret config value; the error never shows it."""
    config = stack_file_config("staging")
    config[P + "databaseUrls"] = {s: URL for s in DEFAULT_SERVICES}
    with pytest.raises(SettingsError) as refused:
        run_program("staging", config, None, today=PINNED_TODAY)
    assert "stored in plain text" in str(refused.value)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("key", ["databaseURLs", "kubeConfig", "jwtSigningKey"])
def test_a_secret_under_a_mistyped_key_is_reported_without_its_value(key):
    """Whatever Pulumi holds as a secret prints as [secret], even under a key the program does not know."""
    with pytest.raises(SettingsError) as refused:
        run_program("staging", stack_file_config("staging"), {s: URL for s in DEFAULT_SERVICES},
                    today=PINNED_TODAY, secrets={P + key: URL})
    message = str(refused.value)
    assert f"{P}{key} = [secret]: unknown key" in message
    assert "hunter2" not in message and "postgres" not in message


def test_a_setting_held_as_a_secret_is_refused_without_its_value():
    """Only databaseUrls and kubeconfig are credentials; any other key set with --secret is refused, shown as [secret]."""
    config = stack_file_config("staging")
    compartment = config.pop(P + "compartmentId")
    with pytest.raises(SettingsError) as refused:
        run_program("staging", config, {s: URL for s in DEFAULT_SERVICES},
                    today=PINNED_TODAY, secrets={P + "compartmentId": compartment})
    message = str(refused.value)
    assert f"{P}compartmentId = [secret]: a setting, not a credential" in message
    assert "it is not encrypted in Pulumi.staging.yaml, so it comes from elsewhere" in message
    assert compartment not in message
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]


def test_the_fix_for_a_secret_setting_names_only_its_encrypted_leaves(tmp_path):
    """One `secure:` leaf makes the whole key secret; the fix resets that leaf, never the plain rest of the key."""
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    kubernetes = stack_file["config"][P + "kubernetes"]
    kubernetes["context"] = {"secure": "v1:AAAA"}
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack_file))
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path)
    config = stack_file_config("staging")
    with pytest.raises(SettingsError) as refused:
        run_program("staging", {k: v for k, v in config.items() if k != P + "kubernetes"},
                    {s: URL for s in DEFAULT_SERVICES}, today=PINNED_TODAY, program=tmp_path / "__main__.py",
                    secrets={P + "kubernetes": config[P + "kubernetes"]})
    message = str(refused.value)
    assert "Set it again without --secret: pulumi config set --path 'kubernetes.context' <value> --stack staging" in message
    assert "config rm" not in message and kubernetes["clusterId"] not in message


def test_a_database_url_stored_without_encryption_is_refused(tmp_path):
    """One leaf set without --secret makes the whole key secret to the engine; the stack file still shows it."""
    stack_file = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    stack_file["config"][P + "databaseUrls"] = {
        **{s: {"secure": "v1:AAAA"} for s in DEFAULT_SERVICES if s != "cart-service"},
        "cart-service": URL,
    }
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack_file))
    shutil.copy(PROJECT_DIR / "__main__.py", tmp_path)
    with pytest.raises(SettingsError) as refused:
        run_program("staging", stack_file_config("staging"), {s: URL for s in DEFAULT_SERVICES},
                    today=PINNED_TODAY, program=tmp_path / "__main__.py")
    message = str(refused.value)
    assert f'{P}databaseUrls["cart-service"] is stored in plain text in Pulumi.staging.yaml' in message
    assert "pulumi config rm --path 'databaseUrls[\"cart-service\"]' --stack staging" in message
    assert "auth-service" not in message and "hunter2" not in message


def secret_values_on_the_command_line(text: str) -> list[str]:
    """Every `pulumi config set --secret` in `text` that passes a value as an argument (the process list shows it).

    Without a value the CLI prompts without echo, or reads standard input
    (pulumi/pulumi pkg/cmd/pulumi/config/config.go, `config set`).
    """
    found = []
    for match in re.finditer(r"pulumi config set --secret[^\n`]*", text):
        words = shlex.split(match.group(0).split("(")[0].split("<")[0])
        positional = [w for i, w in enumerate(words[3:], 3) if not w.startswith("-") and words[i - 1] != "--stack"]
        if len(positional) > 1:  # the key, then a value
            found.append(match.group(0))
    return found


def test_no_secret_is_ever_passed_as_a_command_line_argument():
    """The README, docs/ and the program's own messages set secrets by prompt or standard input only."""
    readme = "\n".join(path.read_text() for path in doc_files(PROJECT_DIR))
    assert "pulumi config set --secret" in readme
    assert secret_values_on_the_command_line(readme) == []
    with pytest.raises(SettingsError) as refused:
        run_program("staging", stack_file_config("staging"), {}, today=PINNED_TODAY)
    assert secret_values_on_the_command_line(str(refused.value)) == []
    assert secret_values_on_the_command_line("pulumi config set --secret --path 'x' 'postgres://a' --stack s")


def test_no_message_suggests_a_destructive_change_without_saying_so():
    """Where a fix would touch a setting fixed once deployed, the message says what that change replaces."""
    config = stack_file_config("staging")
    config[P + "keyRotation"] = {"method": "native"}
    with pytest.raises(SettingsError) as refused:
        run_program("staging", config, {s: URL for s in DEFAULT_SERVICES}, today=PINNED_TODAY)
    message = str(refused.value)
    assert "vaultType VIRTUAL_PRIVATE" in message
    assert "replaces the vault, the key and every secret" in message


def test_a_credential_typed_into_the_wrong_key_is_not_echoed():
    """A URL pasted into a non-secret key is reported, but redacted."""
    config = stack_file_config("staging")
    config[P + "region"] = URL
    with pytest.raises(SettingsError) as refused:
        run_program("staging", config, {s: URL for s in DEFAULT_SERVICES}, today=PINNED_TODAY)
    assert f"{P}region = [redacted" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_a_malformed_pinned_clock_is_a_clear_error(monkeypatch):
    """The rotation clock override is checked like any setting."""
    import pulumi

    monkeypatch.setenv(CLOCK_VARIABLE, "next tuesday")
    with pytest.raises(pulumi.RunError, match="is not a date; use YYYY-MM-DD"):
        run_program("staging", stack_file_config("staging"), {s: URL for s in DEFAULT_SERVICES})
