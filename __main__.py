"""Entry point: read this stack's settings, build its EnvironmentVault, export what others need."""

from pathlib import Path

import pulumi

from components.environment_vault import EnvironmentVault, EnvironmentVaultArgs
from components.naming import component_name
from components.providers import environment_providers
from components.replacement_guard import FIXED_OUTPUT, JWT_OUTPUT, KEY_OUTPUT, deployed_state, fixed_values
from components.stack_config import read_stack_inputs

inputs = read_stack_inputs(Path(__file__).parent)
settings = inputs.settings
environment_vault = EnvironmentVault(
    component_name(settings.environment),
    EnvironmentVaultArgs(
        settings=settings,
        database_urls=inputs.database_urls,
        providers=environment_providers(settings, inputs.kubeconfig),
        deployed=deployed_state(settings, inputs.today),
    ),
)

pulumi.export("vaultId", environment_vault.vault_id)
pulumi.export("keyId", environment_vault.key_id)
pulumi.export("managementEndpoint", environment_vault.management_endpoint)
pulumi.export("secretIds", environment_vault.secret_ids)
pulumi.export("namespace", environment_vault.namespace)
pulumi.export("kubernetesSecrets", environment_vault.kubernetes_secrets)
pulumi.export("reloadAnnotations", environment_vault.reload_annotations)
pulumi.export("notificationTopicId", environment_vault.notification_topic_id)
# Read back by the next update's replacement guard. Recorded only once every sync object and the replicas' vault
# and key have had their step (the rotation output waits for the ExternalSecrets, which wait for their namespace
# and releases): a failed update must not record as unprotected what it never got to unprotect.
pulumi.export(FIXED_OUTPUT, pulumi.Output.all(
    environment_vault.jwt_rotation, environment_vault.recovery_vault_id, environment_vault.recovery_key_id
).apply(lambda _: fixed_values(settings)))
# The rotation clock: the next update reads which key version and JWT generation are current and
# since when; the scheduled workflow compares nextDue with the calendar (overdue is an alarm).
pulumi.export(KEY_OUTPUT, environment_vault.key_rotation)
pulumi.export(JWT_OUTPUT, environment_vault.jwt_rotation)
