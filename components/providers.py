"""The explicit providers of one environment.

The default `oci` and `kubernetes` providers are disabled in every stack file: whatever OCI
profile or kubectl context happens to be current must never decide where staging objects
land. Each environment gets an OCI provider for its region (it writes no IAM, so it needs none
for the home region: the IAM program has that one) and a Kubernetes provider pinned to its
cluster's kubeconfig context. That provider names the cluster by its OCID
(`cluster_identifier`): pulumi-kubernetes then replaces its objects only when the OCID changes,
not whenever the kubeconfig or context name does, as a CI job's freshly generated kubeconfig
would (provider/pkg/provider/provider.go, DiffConfig).
"""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_oci as oci

from components.settings import StackSettings


@dataclass(frozen=True)
class Providers:
    region: oci.Provider
    cluster: kubernetes.Provider


def environment_providers(settings: StackSettings, kubeconfig: pulumi.Output[str] | None) -> Providers:
    env = settings.environment
    return Providers(
        region=oci.Provider(f"oci-{env}", region=settings.region, config_file_profile=settings.oci_profile),
        cluster=kubernetes.Provider(
            f"kubernetes-{env}",
            context=settings.kubernetes.context,
            kubeconfig=kubeconfig,
            cluster_identifier=settings.kubernetes.cluster_id,
            # An unreachable cluster must fail the update, not silently drop objects from state.
            delete_unreachable=False,
        ),
    )
