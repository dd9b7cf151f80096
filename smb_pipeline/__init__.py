"""smb_pipeline: daily tables of allowed SMB traffic from firewall-log archives, on Spark and Delta."""

__version__ = "0.1.0"
