"""The Spark job's profile per SQL execution and stage, from Spark's status store (works with the UI off).

Benchmark-only: it reads Spark internals through py4j, which the library never does.
"""

from __future__ import annotations


def _opt_ms(option) -> int | None:
    return option.get().getTime() if option.isDefined() else None


def last_execution_id(spark) -> int:
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return max([executions.apply(i).executionId() for i in range(executions.size())], default=-1)


def spark_profile(spark, after_execution: int) -> list[dict]:
    """Per SQL execution after `after_execution`: description, wall ms, and its stages' metrics."""
    jsc = spark.sparkContext._jsc.sc()
    store = jsc.statusStore()
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    jobs = {}
    job_list = store.jobsList(None)
    for i in range(job_list.size()):
        job = job_list.apply(i)
        jobs[job.jobId()] = job
    out = []
    for i in range(executions.size()):
        ex = executions.apply(i)
        if ex.executionId() <= after_execution:
            continue
        end = _opt_ms(ex.completionTime())
        job_ids = [int(k) for k in _scala_keys(ex.jobs())]
        stage_rows = []
        for job_id in sorted(job_ids):
            job = jobs.get(job_id)
            if job is None:
                continue
            seq = job.stageIds()
            for j in range(seq.size()):
                sid = seq.apply(j)
                try:
                    st = store.lastStageAttempt(sid)
                except Exception:  # a skipped stage (its shuffle output was reused) has no attempt
                    continue
                if str(st.status()) == "SKIPPED":
                    continue
                first, last = _opt_ms(st.submissionTime()), _opt_ms(st.completionTime())
                stage_rows.append({
                    "job": job_id, "stage": sid, "tasks": st.numTasks(), "name": st.name(),
                    "wall_ms": (last - first) if first and last else None,
                    "task_ms": st.executorRunTime(), "cpu_ms": st.executorCpuTime() // 1_000_000,
                    "gc_ms": st.jvmGcTime(),
                    "input_rows": st.inputRecords(), "input_mb": round(st.inputBytes() / 1e6, 1),
                    "shuffle_write_mb": round(st.shuffleWriteBytes() / 1e6, 2),
                    "shuffle_read_mb": round(st.shuffleReadBytes() / 1e6, 2),
                })
        out.append({"execution": ex.executionId(), "description": ex.description(),
                    "wall_ms": (end - ex.submissionTime()) if end else None, "stages": stage_rows})
    return out


def _scala_keys(scala_map) -> list:
    keys = []
    it = scala_map.keysIterator()
    while it.hasNext():
        keys.append(it.next())
    return keys


def format_profile(profile: list[dict]) -> str:
    lines = []
    for ex in profile:
        lines.append(f"exec {ex['execution']:>3} {ex['wall_ms'] or 0:>7} ms  {ex['description'][:100]}")
        for st in ex["stages"]:
            lines.append(
                f"      stage {st['stage']:>4} tasks {st['tasks']:>4} wall {st['wall_ms'] or 0:>6} ms "
                f"task {st['task_ms']:>6} ms cpu {st['cpu_ms']:>6} ms gc {st['gc_ms']:>5} ms "
                f"in {st['input_rows']:>10} rows {st['input_mb']:>8} MB "
                f"shw {st['shuffle_write_mb']:>7} MB  {st['name'][:60]}")
    return "\n".join(lines)
