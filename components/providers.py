"""The explicit providers of one environment.

The default `oci` and `kubernetes` providers are disabled in every stack file: whatever OCI
profile or kubectl context happens to be current must never decide where staging objects
land. Each environment gets an OCI provider for its region (it writes no IAM, so it needs none
for the home region: the IAM program has that one) and a Kubernetes provider pinned to its
cluster's kubeconfig context. That provider names the cluster by its OCID
(`cluster_identifier`): pulumi-kubernetes then replaces its objects only when the OCID changes,
not whenever the kubeconfig or context name does, as a CI job's freshly generated kubeconfig
would (provider/pkg/provider/provider.go, DiffConfig). With `disasterRecovery` on, a second OCI
provider for the replica region and, when a standby cluster is set, a second Kubernetes provider.
"""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_oci as oci

from components.settings import KubernetesSettings, StackSettings


@dataclass(frozen=True)
class Providers:
    region: oci.Provider
    cluster: kubernetes.Provider
    # With disasterRecovery: its region (the replicas' vault and key), and its standby cluster when set.
    recovery_region: oci.Provider | None = None
    standby_cluster: kubernetes.Provider | None = None


def environment_providers(settings: StackSettings, kubeconfig: pulumi.Output[str] | None) -> Providers:
    env = settings.environment
    recovery = settings.disaster_recovery
    standby = recovery.standby if recovery else None
    return Providers(
        region=oci.Provider(f"oci-{env}", region=settings.region, config_file_profile=settings.oci_profile),
        cluster=_cluster(f"kubernetes-{env}", settings.kubernetes, kubeconfig),
        recovery_region=(
            oci.Provider(f"oci-{env}-recovery", region=recovery.region, config_file_profile=settings.oci_profile)
            if recovery else None
        ),
        # The same kubeconfig (a file may hold both clusters' contexts), the standby's own context.
        standby_cluster=_cluster(f"kubernetes-{env}-standby", standby, kubeconfig) if standby else None,
    )


def _cluster(name: str, settings: KubernetesSettings, kubeconfig: pulumi.Output[str] | None) -> kubernetes.Provider:
    return kubernetes.Provider(
        name,
        context=settings.context,
        kubeconfig=kubeconfig,
        cluster_identifier=settings.cluster_id,
        # An unreachable cluster must fail the update, not silently drop objects from state.
        delete_unreachable=False,
    )
