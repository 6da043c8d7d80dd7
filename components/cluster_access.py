"""The Kubernetes access that closes the deployer's chain through the cluster (docs/isolation.md).

The environment's deployer needs to manage its namespace's SecretStore, ExternalSecrets and sync
service account; with any more (reading Secrets, running pods, binding roles, cluster-admin to
install ESO) it could copy a service secret into something it can read, and so reach values its
IAM grants keep from it. These manifests are for the platform team to apply, never for the
deployer's own `pulumi up`: a Role the deployer creates, the deployer could widen. They go with
`kubernetes.installOperator: false`, `kubernetes.installReloader: false` and
`kubernetes.manageNamespace: adopt` (the platform team installs the operators and creates the
namespace). `offline.plan --out` writes them, per environment, as `deployer-access.yaml`.
"""

from typing import Any, Final

from components.manifests import labels

# OKE maps an OCI user or group to a Kubernetes user or group named by its OCID.
DEPLOYER_SUBJECT: Final = "<OCID of the deployer's OCI group (iam.deployerGroup)>"
# Everything a Pulumi update and refresh does with an object it manages, and no more.
_MANAGE: Final = ["get", "list", "watch", "create", "update", "patch", "delete"]


def deployer_access(environment: str, namespace: str) -> list[dict[str, Any]]:
    """A Role in the namespace (its SecretStores, ExternalSecrets and service accounts), a ClusterRole for
    labelling that one namespace, and the bindings of both to the deployer's group."""
    name = f"ecommerce-{environment}-deployer"
    subject = [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": DEPLOYER_SUBJECT}]
    meta = {"labels": labels(environment)}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace, **meta},
            "rules": [
                {"apiGroups": ["external-secrets.io"], "resources": ["secretstores", "externalsecrets"], "verbs": _MANAGE},
                # Not serviceaccounts/token: only ESO's controller asks for the sync account's tokens.
                {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": _MANAGE},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace, **meta},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, **meta},
            # The adopted namespace's labels (NamespacePatch): that namespace only.
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [namespace], "verbs": ["get", "patch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name, **meta},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": subject,
        },
    ]
