"""docs/settings.md lists every setting of both programs as the models describe it now
(offline/settings_doc.py writes the tables from the models' field descriptions)."""

from components.iam_settings import IamStackSettings
from components.settings import KubernetesSettings, StackSettings
from offline import settings_doc


def test_the_settings_doc_is_what_the_models_say_now():
    """Run `.tools/bin/uv run python -m offline.settings_doc` after changing a setting: a stale table fails here."""
    doc = settings_doc.DOC.read_text(encoding="utf-8")
    assert settings_doc.current(doc) == doc


def test_every_leaf_setting_of_both_programs_has_a_row():
    """Nested settings are listed by their full path, as `pulumi config set --path` takes them."""
    keys = {key for model in (StackSettings, IamStackSettings) for key, _, _ in settings_doc.rows(model)}
    assert {"secrets.jwtRotation.intervalDays", "kubernetes.reloaderWatchNamespaces", "adopt.databaseUrlSecrets",
            "iam.deployerGroup", "homeRegion"} <= keys
    assert not {key for key in keys if key.endswith("anchorDate")}


def test_a_changed_description_makes_the_doc_stale(monkeypatch):
    """The check can fail: a setting whose description changes no longer matches the committed doc."""
    doc = settings_doc.DOC.read_text(encoding="utf-8")
    field = KubernetesSettings.model_fields["refresh_interval"]
    monkeypatch.setattr(field, "description", "how often, now said differently")
    assert settings_doc.current(doc) != doc
