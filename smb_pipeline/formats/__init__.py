"""Registry of source formats: the config's `format:` value -> its `SourceFormat`."""

from __future__ import annotations

from smb_pipeline.formats.aws_vpc_flow import AWS_VPC_FLOW
from smb_pipeline.formats.azure_nsg_flow import AZURE_NSG_FLOW
from smb_pipeline.formats.base import SourceFormat
from smb_pipeline.formats.checkpoint import CHECKPOINT
from smb_pipeline.formats.cim import CIM
from smb_pipeline.formats.cisco_asa import CISCO_ASA
from smb_pipeline.formats.ecs import ECS
from smb_pipeline.formats.fortigate import FORTIGATE
from smb_pipeline.formats.gcp_firewall import GCP_FIREWALL
from smb_pipeline.formats.juniper_srx import JUNIPER_SRX
from smb_pipeline.formats.ocsf import OCSF
from smb_pipeline.formats.panos import PANOS
from smb_pipeline.formats.pfsense import PFSENSE
from smb_pipeline.formats.suricata_flow import SURICATA_FLOW
from smb_pipeline.formats.zeek_conn import ZEEK_CONN

FORMATS: dict[str, SourceFormat] = {
    fmt.name: fmt
    for fmt in (
        CIM,
        PANOS,
        FORTIGATE,
        CHECKPOINT,
        JUNIPER_SRX,
        AWS_VPC_FLOW,
        GCP_FIREWALL,
        OCSF,
        CISCO_ASA,
        PFSENSE,
        AZURE_NSG_FLOW,
        ZEEK_CONN,
        SURICATA_FLOW,
        ECS,
    )
}

__all__ = ["FORMATS", "SourceFormat"]
