"""The working columns the core adds to a source's rows on their way through a run.

They start with `_` so they never collide with a vendor's or a canonical column, and none
of them reaches a table except through the rejects' `file_path` and `raw`.
"""

from __future__ import annotations

# The `dt=YYYY-MM-DD` folder of a day-partitioned archive.
PARTITION_COLUMN = "dt"
# The file a row was read from (for reject details and fingerprints).
FILE_COLUMN = "_file"
# The day of the row's folder: owns a row whose event time is missing or implausible.
FOLDER_DAY_COLUMN = "_folder_day"
# The columns a required field was looked up under, for rows of a file that lacks it; null otherwise.
MISSING_COLUMN = "_missing_column"
# A row's position in its file (Parquet's row index): with FILE_COLUMN, where to read a rejected
# row's vendor columns again.
ROW_INDEX_COLUMN = "_row_index"
# A row's vendor columns as JSON: read again for rejected rows only.
RAW_COLUMN = "_raw"
# Whether the format's cheap prefilter keeps the row.
CANDIDATE_COLUMN = "_candidate"
# Whether the row's event time is too far from its folder's day to be believed.
IMPLAUSIBLE_COLUMN = "_implausible_time"
# Whether the row is company traffic (`exclude_company` decides which side counts): not kept.
COMPANY_COLUMN = "_company"
# Days of margin between an event's day and its folder's day: a run reads this many extra folders.
MARGIN_DAYS = 1
