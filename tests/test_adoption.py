"""A stack adopts an existing vault, key and database-url secrets instead of creating them.

Adoption is Pulumi's `import` resource option: the registration carries the existing resource's ID,
the engine reads it and takes it into the stack (docs/adoption.md). The plan marks what is adopted,
and only what an import can succeed with is accepted.
"""

import re
from typing import Any

import pytest

from components.naming import DEFAULT_SERVICES, PROJECT
from components.settings_errors import SettingsError
from offline import diff, plan
from offline.harness import PROJECT_DIR, ProgramRun, run_program, stack_file_config
from offline.replacements import KEY, SECRET, VAULT, replace_forcing
from tests.conftest import PINNED_TODAY

P = f"{PROJECT}:"
VAULT_ID = "ocid1.vault.oc1.eu-frankfurt-1.bbexistingvault"
ENDPOINT = "https://bbexistingvault-management.kms.eu-frankfurt-1.oraclecloud.com"
KEY_ID = "ocid1.key.oc1.eu-frankfurt-1.bbexistingvault.abexistingkey"
SECRET_ID = "ocid1.vaultsecret.oc1.eu-frankfurt-1.amexistingauthurl"
ADOPT = {"vaultId": VAULT_ID, "managementEndpoint": ENDPOINT, "keyId": KEY_ID, "databaseUrlSecrets": {"auth-service": SECRET_ID}}
URLS = {s: f"<url of {s}>" for s in DEFAULT_SERVICES if s != "auth-service"}


def adopting(adopt: dict[str, Any], urls: dict[str, str] = URLS, **kwargs: Any) -> ProgramRun:
    return run_program("staging", stack_file_config("staging") | {P + "adopt": adopt}, urls, today=PINNED_TODAY, **kwargs)


def test_the_vault_key_and_secret_are_registered_with_the_import_option():
    """Each adopted resource carries its import ID; nothing else does; the adopted secret sends no content."""
    run = adopting(ADOPT)
    [vault], [key] = run.of_type(VAULT), run.of_type(KEY)
    assert vault.import_id == VAULT_ID
    assert key.import_id == f"managementEndpoint/{ENDPOINT}/keys/{KEY_ID}"
    adopted = [r for r in run.of_type(SECRET) if r.import_id]
    assert [(r.name, r.import_id) for r in adopted] == [("ecommerce-staging-auth-service-database-url", SECRET_ID)]
    assert "secretContent" not in adopted[0].inputs
    assert all(not r.import_id for r in run.registrations if r not in (vault, key, *adopted))


def test_the_plan_and_the_pull_request_comment_mark_what_is_adopted(stack_runs):
    """The plan flags each adopted resource with its ID; the comment lists them under Adopted."""
    run = adopting(ADOPT)
    text = plan.render_text(run, [], markdown=True)
    assert f"= oci:Kms/vault:Vault  ecommerce-staging-vault [protect] [adopts {VAULT_ID}]" in text
    assert f"[adopts {SECRET_ID}]" in text
    found = diff.diff_stack("staging", plan.plan_view(stack_runs["staging"], []), plan.plan_view(run, []))
    assert sorted(r["name"] for r in found.adopted) == [
        "ecommerce-staging-auth-service-database-url", "ecommerce-staging-key", "ecommerce-staging-vault"]
    assert f"`{VAULT_ID}`" in diff.render([found], "main")


@pytest.mark.parametrize(
    ("adopt", "urls", "fragment"),
    [
        ({"keyId": KEY_ID}, URLS, "adopt.keyId"),
        ({"vaultId": VAULT_ID, "managementEndpoint": ENDPOINT}, URLS, "adopt.managementEndpoint"),
        ({"vaultId": VAULT_ID, "databaseUrlSecrets": {"auth-service": SECRET_ID}}, URLS, "needs adopt.vaultId and adopt.keyId"),
        (ADOPT | {"databaseUrlSecrets": {"search-service": SECRET_ID}}, URLS, "names services that are not in services"),
        (ADOPT | {"vaultId": KEY_ID}, URLS, "must be an OCID of a vault"),
        (ADOPT | {"managementEndpoint": "kms.example.com"}, URLS, "management endpoint"),
        (ADOPT, URLS | {"auth-service": "<url>"}, "adopts that secret with the value it holds in OCI"),
        ({"vaultId": VAULT_ID, "keyID": KEY_ID}, URLS, "did you mean keyId?"),
    ],
    ids=["key without vault", "endpoint alone", "secret without key", "unknown service", "wrong OCID kind",
         "bad endpoint", "URL for an adopted secret", "typo"],
)
def test_only_what_an_import_can_succeed_with_is_accepted(adopt, urls, fragment):
    """A key outside the adopted vault, or a secret outside the adopted vault and key, could only be replaced."""
    with pytest.raises(SettingsError) as refused:
        adopting(adopt, urls if fragment != "adopt.keyId" else URLS | {"auth-service": "<url>"})
    assert fragment in str(refused.value)
    assert refused.value.program_run.resources == []  # type: ignore[attr-defined]


def test_the_adoption_doc_lists_what_must_match_as_the_providers_say():
    """docs/adoption.md names, per adopted type, exactly the inputs the program sets that force a replacement."""
    doc = (PROJECT_DIR / "docs" / "adoption.md").read_text()
    run = adopting(ADOPT)
    for type_ in (VAULT, KEY, SECRET):
        [row] = [line.strip() for line in doc.splitlines() if line.strip().startswith(f"| `{type_}` |")]
        listed = set(re.findall(r"`([a-zA-Z.]+)`", row.split("|")[2]))
        sent = {k for r in run.of_type(type_) for k in r.inputs}
        assert listed == {path[0] for path in replace_forcing(type_)} & sent, type_
    for cited in ("step_generator.go", "step.go", "kms_key_resource.go"):
        assert cited in doc
