"""Where a row goes: its status in a run, and the reject reasons that come from the input.

Dashboards and the rejects table read these codes; they never change. The value checks'
reasons (`invalid_src_ip`, ...) live with the checks in `transforms.validate`.
"""

from __future__ import annotations

STATUS_REJECTED = "rejected"
STATUS_NOT_SMB = "not_allowed_smb"
STATUS_SMB = "allowed_smb"

REASON_MISSING_COLUMN = "missing_column"
REASON_IMPLAUSIBLE_TIME = "implausible_time"
