"""The Kubernetes access that closes the deployer's chain through the cluster (docs/isolation.md).

The environment's deployer needs to manage its namespace's SecretStore, ExternalSecrets and sync
service account; with any more (reading Secrets, running pods, binding roles, cluster-admin to
install ESO) it could copy a service secret into something it can read, and so reach values its
IAM grants keep from it. These manifests are for the platform team to apply, never for the
deployer's own `pulumi up`: a Role the deployer creates, the deployer could widen. They go with
`kubernetes.installOperator: false`, `kubernetes.installReloader: false` and
`kubernetes.manageNamespace: adopt` (the platform team installs the operators and creates the
namespace). `offline.plan --out` writes them, per environment, as `deployer-access.yaml`.

The deployer still writes the namespace's SecretStore, and a store of another provider (ESO's
webhook provider templates a Secret's value into a URL it calls, docs/provider/webhook.md in
external-secrets/external-secrets) would let ESO's controller, which reads every Secret, send a
synced value out. A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes
1.30) admits in that namespace only SecretStores of the oracle provider that authenticate as the
sync identity's workload: whatever vault such a store names, it reads only what IAM lets the sync
identity read, and it sends nothing anywhere.
"""

from typing import Any, Final

from components.manifests import labels

# OKE maps an OCI user or group to a Kubernetes user or group named by its OCID.
DEPLOYER_SUBJECT: Final = "<OCID of the deployer's OCI group (iam.deployerGroup)>"
# Everything a Pulumi update and refresh does with an object it manages, and no more.
_MANAGE: Final = ["get", "list", "watch", "create", "update", "patch", "delete"]


def secret_store_rule(service_account: str) -> str:
    """The CEL expression a SecretStore must satisfy: the oracle provider alone, as the sync identity's workload
    (no API key of its own, `auth`), through `service_account`. A missing field fails the expression (and an
    evaluation error fails the request: failurePolicy Fail)."""
    oracle = "object.spec.provider.oracle"
    return (
        f"object.spec.provider.size() == 1 && has({oracle}) && has({oracle}.principalType) "
        f"&& {oracle}.principalType == 'Workload' && !has({oracle}.auth) && has({oracle}.serviceAccountRef) "
        f"&& {oracle}.serviceAccountRef.name == '{service_account}'"
    )


def _secret_store_admission(name: str, namespace: str, service_account: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": f"{name}-secret-stores", **meta},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                    "resourceRules": [{
                        "apiGroups": ["external-secrets.io"], "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"], "resources": ["secretstores"],
                    }],
                },
                "validations": [{
                    "expression": secret_store_rule(service_account),
                    "message": f"in {namespace}, a SecretStore may only use the oracle provider as the workload of "
                               f"service account {service_account} (docs/isolation.md, 'Closing the cluster chain')",
                }],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": f"{name}-secret-stores", **meta},
            "spec": {"policyName": f"{name}-secret-stores", "validationActions": ["Deny"]},
        },
    ]


def deployer_access(environment: str, namespace: str, service_account: str) -> list[dict[str, Any]]:
    """A Role in the namespace (its SecretStores, ExternalSecrets and service accounts), a ClusterRole for
    labelling that one namespace, the bindings of both to the deployer's group, and the admission policy
    that keeps that namespace's SecretStores on the oracle provider as `service_account`'s workload."""
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
        *_secret_store_admission(name, namespace, service_account, meta),
    ]
