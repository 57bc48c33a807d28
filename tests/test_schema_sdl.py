from pathlib import Path

from dianshu_graphql.schema import SDL_PATH, sdl


def test_committed_sdl_matches_the_schema():
    assert SDL_PATH == Path(__file__).resolve().parents[1] / "schema.graphql"
    committed = SDL_PATH.read_text() if SDL_PATH.exists() else ""
    assert committed == sdl(), "schema.graphql drifted: run `dianshu schema --output schema.graphql` and commit"


def test_money_and_points_never_travel_as_float():
    text = sdl()
    allowed = ("progress", "ventHours", "icuHours")  # a fraction and durations, never money or points
    for line in text.splitlines():
        if ": Float" in line:
            assert line.strip().startswith(allowed), f"a Float field that is not a fraction or hours: {line.strip()}"
