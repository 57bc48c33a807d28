from dianshu.jobs.registry import all_kinds


def test_every_job_kind_has_an_actor_with_explicit_limits():
    from dianshu_workers.actors import ACTORS

    kinds = {k for k in all_kinds() if not k.startswith("test.")}
    assert kinds <= set(ACTORS), f"job kinds without an actor: {kinds - set(ACTORS)}"
    for kind in kinds:
        options = ACTORS[kind].options
        assert options["time_limit"] > 0 and "max_retries" in options, kind
