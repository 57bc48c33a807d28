from pathlib import Path

from dianshu_graphql.schema import SDL_PATH, sdl


def test_committed_sdl_matches_the_schema():
    assert SDL_PATH == Path(__file__).resolve().parents[1] / "schema.graphql"
    committed = SDL_PATH.read_text() if SDL_PATH.exists() else ""
    assert committed == sdl(), "schema.graphql drifted: run `dianshu schema --output schema.graphql` and commit"


def test_money_and_points_never_travel_as_float():
    text = sdl()
    for line in text.splitlines():
        if ": Float" in line:
            assert line.strip().startswith("progress"), f"a Float field other than job progress: {line.strip()}"
