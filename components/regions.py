"""The OCI regions, with their realm and key: a disaster-recovery region must be one of them.

Copied from the OCI Python SDK 2.189.0 (`oci/regions_definitions.py`, REGION_REALMS and
REGIONS_SHORT_NAMES), which the test group installs but the program does not: its runtime dependencies
are pulumi, pulumi-oci and pydantic, and pulumi-oci knows regions only through a call to OCI (`oci.identity.get_regions`), which validation must
not need. `tests/test_disaster_recovery.py` compares this table with the SDK's, so an SDK upgrade that
adds a region fails the suite until it is added here. Keys replicate only within one realm (OCI
documentation, "Replicating Vaults and Keys"); the secret replication pages ("Replicating Secrets")
name no realm rule either way, so a disaster-recovery region must share the primary's realm.

The key (FRA, AMS) is what IAM's `request.region` compares with (OCI, "General Variables for All
Requests"): it confines the standby cluster's reads to the replica region.
"""

from typing import Final, NamedTuple


class OciRegion(NamedTuple):
    realm: str
    key: str


OCI_REGIONS: Final[dict[str, OciRegion]] = {
    "af-casablanca-1": OciRegion("oc1", "LEJ"),
    "af-johannesburg-1": OciRegion("oc1", "JNB"),
    "ap-batam-1": OciRegion("oc1", "HSG"),
    "ap-chiyoda-1": OciRegion("oc8", "NJA"),
    "ap-chuncheon-1": OciRegion("oc1", "YNY"),
    "ap-chuncheon-2": OciRegion("oc35", "BNO"),
    "ap-dcc-canberra-1": OciRegion("oc10", "WGA"),
    "ap-dcc-gazipur-1": OciRegion("oc15", "DAC"),
    "ap-delhi-1": OciRegion("oc1", "ONM"),
    "ap-hyderabad-1": OciRegion("oc1", "HYD"),
    "ap-ibaraki-1": OciRegion("oc8", "UKB"),
    "ap-kulai-2": OciRegion("oc1", "JBP"),
    "ap-melbourne-1": OciRegion("oc1", "MEL"),
    "ap-mumbai-1": OciRegion("oc1", "BOM"),
    "ap-osaka-1": OciRegion("oc1", "KIX"),
    "ap-seoul-1": OciRegion("oc1", "ICN"),
    "ap-seoul-2": OciRegion("oc35", "DTZ"),
    "ap-singapore-1": OciRegion("oc1", "SIN"),
    "ap-singapore-2": OciRegion("oc1", "XSP"),
    "ap-suwon-1": OciRegion("oc35", "DLN"),
    "ap-sydney-1": OciRegion("oc1", "SYD"),
    "ap-tokyo-1": OciRegion("oc1", "NRT"),
    "ca-montreal-1": OciRegion("oc1", "YUL"),
    "ca-toronto-1": OciRegion("oc1", "YYZ"),
    "eu-amsterdam-1": OciRegion("oc1", "AMS"),
    "eu-budapest-1": OciRegion("oc51", "JSK"),
    "eu-crissier-1": OciRegion("oc24", "AVF"),
    "eu-dcc-dublin-1": OciRegion("oc14", "ORK"),
    "eu-dcc-dublin-2": OciRegion("oc14", "SNN"),
    "eu-dcc-milan-1": OciRegion("oc14", "BGY"),
    "eu-dcc-milan-2": OciRegion("oc14", "MXP"),
    "eu-dcc-rating-1": OciRegion("oc14", "DUS"),
    "eu-dcc-rating-2": OciRegion("oc14", "DTM"),
    "eu-dcc-zurich-1": OciRegion("oc24", "AVZ"),
    "eu-frankfurt-1": OciRegion("oc1", "FRA"),
    "eu-frankfurt-2": OciRegion("oc19", "STR"),
    "eu-jovanovac-1": OciRegion("oc20", "BEG"),
    "eu-madrid-1": OciRegion("oc1", "MAD"),
    "eu-madrid-2": OciRegion("oc19", "VLL"),
    "eu-madrid-3": OciRegion("oc1", "ORF"),
    "eu-marseille-1": OciRegion("oc1", "MRS"),
    "eu-milan-1": OciRegion("oc1", "LIN"),
    "eu-paris-1": OciRegion("oc1", "CDG"),
    "eu-stockholm-1": OciRegion("oc1", "ARN"),
    "eu-turin-1": OciRegion("oc1", "NRQ"),
    "eu-zurich-1": OciRegion("oc1", "ZRH"),
    "il-jerusalem-1": OciRegion("oc1", "MTZ"),
    "me-abudhabi-1": OciRegion("oc1", "AUH"),
    "me-abudhabi-2": OciRegion("oc29", "RKT"),
    "me-abudhabi-3": OciRegion("oc26", "AHU"),
    "me-abudhabi-4": OciRegion("oc29", "SHJ"),
    "me-alain-1": OciRegion("oc26", "RBA"),
    "me-alrayyan-1": OciRegion("oc21", "VVE"),
    "me-dcc-doha-1": OciRegion("oc21", "DOH"),
    "me-dcc-muscat-1": OciRegion("oc9", "MCT"),
    "me-dubai-1": OciRegion("oc1", "DXB"),
    "me-ibri-1": OciRegion("oc9", "IBR"),
    "me-jeddah-1": OciRegion("oc1", "JED"),
    "me-riyadh-1": OciRegion("oc1", "RUH"),
    "mx-monterrey-1": OciRegion("oc1", "MTY"),
    "mx-queretaro-1": OciRegion("oc1", "QRO"),
    "sa-bogota-1": OciRegion("oc1", "BOG"),
    "sa-riodejaneiro-1": OciRegion("oc52", "HNW"),
    "sa-santiago-1": OciRegion("oc1", "SCL"),
    "sa-saopaulo-1": OciRegion("oc1", "GRU"),
    "sa-valparaiso-1": OciRegion("oc1", "VAP"),
    "sa-vinhedo-1": OciRegion("oc1", "VCP"),
    "uk-cardiff-1": OciRegion("oc1", "CWL"),
    "uk-gov-cardiff-1": OciRegion("oc4", "BRS"),
    "uk-gov-london-1": OciRegion("oc4", "LTN"),
    "uk-london-1": OciRegion("oc1", "LHR"),
    "us-ashburn-1": OciRegion("oc1", "IAD"),
    "us-ashburn-2": OciRegion("oc42", "YXJ"),
    "us-chicago-1": OciRegion("oc1", "ORD"),
    "us-gov-ashburn-1": OciRegion("oc3", "RIC"),
    "us-gov-chicago-1": OciRegion("oc3", "PIA"),
    "us-gov-phoenix-1": OciRegion("oc3", "TUS"),
    "us-langley-1": OciRegion("oc2", "LFI"),
    "us-luke-1": OciRegion("oc2", "LUF"),
    "us-newark-1": OciRegion("oc42", "PGC"),
    "us-phoenix-1": OciRegion("oc1", "PHX"),
    "us-saltlake-2": OciRegion("oc1", "AGA"),
    "us-sanjose-1": OciRegion("oc1", "SJC"),
    "us-somerset-1": OciRegion("oc23", "EBB"),
    "us-thames-1": OciRegion("oc23", "EBL"),
}
