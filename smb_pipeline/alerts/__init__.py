"""The alerting layer on top of `smb_allowed_daily`: which allowed SMB a person must look at, and why.

Reference data (special-purpose ranges, the allowlist) is read and validated with the config;
the transforms (direction, the five detections, scoring, suppression) are pure DataFrame
functions; `store` writes `smb_alerts` and `export` reads it back as JSON lines.
"""
