from dianshu.jobs.registry import all_kinds


def test_every_job_kind_has_an_actor_with_explicit_limits():
    from dianshu_workers.actors import ACTORS

    kinds = {k for k in all_kinds() if not k.startswith("test.")}
    assert kinds <= set(ACTORS), f"job kinds without an actor: {kinds - set(ACTORS)}"
    for kind in kinds:
        options = ACTORS[kind].options
        assert options["time_limit"] > 0 and "max_retries" in options, kind


def test_a_stopping_worker_starts_no_job(monkeypatch):
    """Once a worker process begins to shut down, a message it still gets is raised back to
    Dramatiq (retried later, elsewhere) before the job is touched: a benchmark once saw a stopping
    worker fail seven anomaly jobs, each on 'cannot schedule new futures after interpreter shutdown'."""
    import asyncio
    import inspect

    import pytest

    from dianshu_workers.actors import ACTORS, base

    touched = []

    async def execute(*args, **kwargs):
        touched.append(args)
        return "succeeded"

    monkeypatch.setattr(base, "execute", execute)
    monkeypatch.setattr(base, "database", lambda: None)
    fn = ACTORS["anomaly.run"].fn
    fn = getattr(fn, "__wrapped__", fn)
    assert inspect.iscoroutinefunction(fn)
    middleware = base.GracefulShutdown()
    middleware.after_worker_boot(None, None)
    asyncio.run(fn("330702", "00000000-0000-0000-0000-000000000001"))
    assert len(touched) == 1
    base.STOPPING.set()  # what before_worker_shutdown sets first
    try:
        with pytest.raises(base.WorkerStopping, match="not started"):
            asyncio.run(fn("330702", "00000000-0000-0000-0000-000000000001"))
        assert len(touched) == 1
    finally:
        middleware.after_worker_boot(None, None)
    assert not base.STOPPING.is_set()
