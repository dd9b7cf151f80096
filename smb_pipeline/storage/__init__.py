"""The storage layer: every Delta table and file-system operation of the pipeline goes through here.

`delta_io`: Delta tables (create, day-replacing writes, appends, MERGE/UPDATE/DELETE, versions,
history, the change feed); `commits`: a run's tagged commits and their undo; `registration`:
catalog registration; `upkeep`: OPTIMIZE, VACUUM and file counts; `files`: listings of input
files (path, size, modification time) for fingerprints.

Only public APIs: Delta's SQL (`DESCRIBE HISTORY`, `SHOW TBLPROPERTIES`, `MERGE INTO`, `OPTIMIZE`,
`VACUUM`, and `DESCRIBE DETAIL` for upkeep's file counts, on `delta.`path``), the DataFrame
reader and writer, and Spark's `binaryFile` source for listings. So the same code runs in a
local JVM, under spark-submit and over Spark Connect, where there is no SparkContext and Delta's
Python `DeltaTable` needs a server plugin (Delta Connect) that a plain Connect server with Delta's
SQL extension does not have.
"""
