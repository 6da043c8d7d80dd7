"""Names of everything the program creates, as pure functions.

Every name is derived from stable identities (environment, service, secret kind), never
from a position in a list, so that adding or removing a service leaves every other
resource's name, and therefore its Pulumi URN, unchanged.
"""

from typing import Final, Literal

PROJECT: Final = "ecommerce-kms-vault"
SYSTEM: Final = "ecommerce"
# The component's type token: one constant for the project, never built from an instance name.
COMPONENT_TYPE: Final = "ecommerce:security:EnvironmentVault"

SecretKind = Literal["database-url", "jwt-secret"]
SECRET_KINDS: Final[tuple[SecretKind, ...]] = ("database-url", "jwt-secret")

# What each secret is called inside the pod: the Kubernetes Secret key, and so the env var.
ENV_VAR_OF: Final[dict[SecretKind, str]] = {
    "database-url": "DATABASE_URL",
    "jwt-secret": "JWT_SECRET",
}
# Beside JWT_SECRET (which signs): the generation before it and the one after it, which services
# accept so that tokens signed on either side of a rotation's rollout verify everywhere.
PREVIOUS_JWT_ENV_VAR: Final = "JWT_SECRET_PREVIOUS"
NEXT_JWT_ENV_VAR: Final = "JWT_SECRET_NEXT"

# OCI accepts longer secret names on paper, but names above 50 characters are reported to
# fail (oci-python-sdk#424) and no maximum is documented: 50 is the safe ceiling.
OCI_SECRET_NAME_MAX: Final = 50

DEFAULT_SERVICES: Final = tuple(
    f"{name}-service"
    for name in (
        "gateway", "auth", "user", "product", "cart", "order",
        "payment", "notification", "discount", "shipping", "return",
    )
)


def component_name(environment: str) -> str:
    return f"{SYSTEM}-{environment}"


def environment_prefix(environment: str) -> str:
    """What the name of every OCI object of the environment starts with (`ecommerce-staging-`)."""
    return f"{component_name(environment)}-"


def vault_name(environment: str) -> str:
    return f"{environment_prefix(environment)}vault"


def key_name(environment: str) -> str:
    return f"{environment_prefix(environment)}secrets-key"


def default_namespace(environment: str) -> str:
    return component_name(environment)


def policy_name(environment: str) -> str:
    return f"{environment_prefix(environment)}secrets-access"


def deployer_policy_name(environment: str) -> str:
    return f"{environment_prefix(environment)}deployer"


def deny_policy_name(environment: str) -> str:
    return f"{environment_prefix(environment)}secrets-deny"


def events_topic_name(environment: str) -> str:
    return f"{environment_prefix(environment)}secrets-events"


def events_policy_name(environment: str) -> str:
    return f"{environment_prefix(environment)}events-delivery"


def secret_path(environment: str, service: str, kind: SecretKind) -> str:
    """The logical path of the product description: `ecommerce/<env>/<service>/<secret>`."""
    return f"{SYSTEM}/{environment}/{service}/{kind}"


def oci_secret_name(service: str, kind: SecretKind, generation: int = 0) -> str:
    """The name OCI stores: `/` is not allowed there, and the vault already pins the environment.

    A rotated JWT secret is a new OCI secret per generation: `auth-service.jwt-secret.v3`.
    """
    return f"{service}.{kind}" + (f".v{generation}" if generation else "")


def oci_secret_name_pattern(service: str) -> str:
    """The OCI name pattern (`x*`: starts with) every secret name of `service` matches, all generations
    included: what the sync identity's reads are narrowed to (components/iam.py)."""
    return f"{oci_secret_name(service, 'database-url').split('.')[0]}.*"


def secret_resource_name(component: str, service: str, kind: SecretKind, generation: int = 0) -> str:
    return child_name(component, service, kind, *([f"v{generation}"] if generation else []))


# Generations a name must leave room for: a monthly rotation reaches v1200 after a century.
MAX_GENERATION: Final = 9999


def kubernetes_secret_name(service: str) -> str:
    return f"{service}-secrets"


def child_name(component: str, *parts: str) -> str:
    """Pulumi resource name of a component child, e.g. `ecommerce-staging-auth-service-jwt-secret`."""
    return "-".join((component, *parts))


def child_urn(stack: str, environment: str, type_: str, *parts: str) -> str:
    """The URN the engine gives a child of the environment's component, e.g. for `pulumi up --replace`."""
    return f"urn:pulumi:{stack}::{PROJECT}::{COMPONENT_TYPE}${type_}::{child_name(component_name(environment), *parts)}"
