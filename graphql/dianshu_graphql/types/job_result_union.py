"""The `JobResult` union, made when the schema is built (Job.result names it lazily): by then every
domain module has registered its kinds' result types (job_results.register), whatever the order in
which the modules were imported."""

from __future__ import annotations

from dianshu_graphql.types import job_results

JobResult = job_results.union()
