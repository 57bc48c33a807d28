"""The grouper's strict input schema (`parse_input`) and its hand-written output (`to_dict`)."""

from __future__ import annotations

import dataclasses

import pytest

from dianshu.grouping.records import GroupInput, GroupResult, Message, RecordError, parse_input
from dianshu.grouping.samples import diverse_records


def refused(d) -> tuple[str, str]:
    with pytest.raises(RecordError) as e:
        parse_input(d)
    return e.value.field, e.value.reason


def test_a_full_record_is_taken_as_sent():
    d = {
        "id": "A-1",
        "sex": 2,
        "age_years": 0,
        "age_days": 3,
        "birth_weight_g": 3100,
        "los_days": 5,
        "discharge_way": 1,
        "diagnoses": ["P22.000", "J18.900中"],  # a non-ASCII code is taken (and reported unknown later)
        "procedures": ["96.7101", "A  B"],  # two spaces inside one code: not a refusal
        "vent_hours": 12,
        "icu_hours": 30.5,
        "dept": "ICU",
        "coding": "guolin",
    }
    assert parse_input(d) == GroupInput(
        "A-1", 2, 0, 3, 3100, 5, 1, ("P22.000", "J18.900中"), ("96.7101", "A  B"), 12.0, 30.5, "ICU", "guolin"
    )
    assert type(parse_input(d).vent_hours) is float


def test_absent_null_and_unknown_sex_are_no_value():
    assert parse_input({"id": "x"}) == GroupInput("x")
    assert parse_input({"id": "x", "sex": None, "age_years": None, "diagnoses": None, "coding": None}) == GroupInput(
        "x"
    )
    # GB/T 2261.1: 0 unknown, 9 unspecified.
    assert parse_input({"id": "x", "sex": 0}).sex is None and parse_input({"id": "x", "sex": 9}).sex is None
    assert parse_input({"id": "x", "dept": ""}).dept is None


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ([1], "record", "must be a JSON object (got a JSON list)"),
        ({"sex": 1}, "id", "required"),
        ({"id": 12}, "id", "must be a string (got 12)"),
        ({"id": ""}, "id", "must not be empty"),
        ({"id": " a"}, "id", "must not start or end with a space (got ' a')"),
        ({"id": "x", "sex": 3}, "sex", "must be 1 (male) or 2 (female) (got 3)"),
        ({"id": "x", "sex": "1"}, "sex", "must be a whole number (got '1')"),
        ({"id": "x", "sex": True}, "sex", "must be a whole number (got true)"),
        ({"id": "x", "sex": 1.0}, "sex", "must be a whole number (got 1.0)"),
        ({"id": "x", "age_days": True}, "age_days", "must be a whole number (got true)"),
        ({"id": "x", "discharge_way": 1.0}, "discharge_way", "must be one of 1, 2, 3, 4, 5, 9 (got 1.0)"),
        ({"id": "x", "age_years": 70.0}, "age_years", "must be a whole number (got 70.0)"),
        ({"id": "x", "age_years": "70"}, "age_years", "must be a whole number (got '70')"),
        ({"id": "x", "age_years": 151}, "age_years", "must be between 0 and 150 (got 151)"),
        ({"id": "x", "age_days": -1}, "age_days", "must be between 0 and 366 (got -1)"),
        ({"id": "x", "birth_weight_g": 99}, "birth_weight_g", "must be between 100 and 10000 (got 99)"),
        ({"id": "x", "los_days": False}, "los_days", "must be a whole number (got false)"),
        ({"id": "x", "discharge_way": 6}, "discharge_way", "must be one of 1, 2, 3, 4, 5, 9 (got 6)"),
        ({"id": "x", "discharge_way": "1"}, "discharge_way", "must be one of 1, 2, 3, 4, 5, 9 (got '1')"),
        ({"id": "x", "vent_hours": "5"}, "vent_hours", "must be a number of hours (got '5')"),
        ({"id": "x", "vent_hours": True}, "vent_hours", "must be a number of hours (got true)"),
        ({"id": "x", "icu_hours": -0.5}, "icu_hours", "must be a finite number ≥ 0 (got -0.5)"),
        ({"id": "x", "icu_hours": float("inf")}, "icu_hours", "must be a finite number ≥ 0 (got inf)"),
        ({"id": "x", "coding": "GUOLIN"}, "coding", "must be yibao or guolin (got 'GUOLIN')"),
        ({"id": "x", "dept": " ICU"}, "dept", "must not start or end with a space (got ' ICU')"),
        ({"id": "x", "dept": 7}, "dept", "must be a string (got 7)"),
        ({"id": "x", "diagnoses": "J18.900"}, "diagnoses", "must be a list of codes (got 'J18.900')"),
        ({"id": "x", "diagnoses": {"a": 1}}, "diagnoses", "must be a list of codes (got a JSON object)"),
        ({"id": "x", "diagnoses": ["J18.900", ""]}, "diagnoses[2]", "must not be empty"),
        ({"id": "x", "diagnoses": ["J18.900", 5]}, "diagnoses[2]", "must be a string (got 5)"),
        ({"id": "x", "diagnoses": ["J18.900 "]}, "diagnoses[1]", "must not start or end with a space (got 'J18.900 ')"),
        ({"id": "x", "procedures": ["A" * 31]}, "procedures[1]", "must be at most 30 characters (got 31)"),
        # A space inside a code must not let the joined fast check pass a long code.
        (
            {"id": "x", "diagnoses": ["A" * 20 + " " + "B" * 20]},
            "diagnoses[1]",
            "must be at most 30 characters (got 41)",
        ),
        (
            {"id": "x", "procedures": ["96.71\x0001"]},
            "procedures[1]",
            "must not contain control characters (U+0000 at position 5)",
        ),
        (
            {"id": "x", "procedures": ["96.71\t01"]},
            "procedures[1]",
            "must not contain invisible characters (got '96.71\\t01')",
        ),
        ({"id": "x", "diagnoses": ["J18.900"] * 51}, "diagnoses", "must have at most 50 codes (got 51)"),
    ],
)
def test_refusals_name_the_field_and_the_reason(record, field, reason):
    assert refused(record) == (field, reason)


def test_unknown_keys_are_refused_by_name():
    field, reason = refused({"id": "x", "diagnosis": ["J18.900"]})
    assert field == "diagnosis" and reason.startswith("unknown field (the fields are id, sex, age_years,")


def test_to_dict_is_every_field_as_plain_values():
    r = GroupResult(
        "7",
        "MDCE",
        "ES2",
        "ES23",
        "grouped",
        "肺炎",
        ("J18.900", "I10.x00x002"),
        ("89.5200",),
        (),
        ("I10.x00x002",),
        [Message("info", "diagnoses[2]", "translated")],
        ["step"],
    )
    expected = {
        "id": "7",
        "mdc": "MDCE",
        "adrg": "ES2",
        "drg": "ES23",
        "status": "grouped",
        "drg_name": "肺炎",
        "diagnoses": ["J18.900", "I10.x00x002"],
        "procedures": ["89.5200"],
        "mcc": [],
        "cc": ["I10.x00x002"],
        "messages": [{"level": "info", "field": "diagnoses[2]", "text": "translated"}],
    }
    assert r.to_dict() == expected
    assert r.to_dict(with_trace=True) == {**expected, "trace": ["step"]}
    assert r.as_dict(with_trace=False) == expected  # the old name still works


@pytest.mark.parametrize("scheme", ["chs", "zj"])
def test_to_dict_matches_dataclasses_asdict_on_real_results(request, scheme):
    """The hand-written dict holds exactly what dataclasses.asdict did (tuples as lists)."""
    g = request.getfixturevalue(scheme)
    for rec in diverse_records(g, 800, seed=3):
        r = g.group(rec, trace=rec.id.endswith("7"))
        slow = dataclasses.asdict(r)
        for k in ("diagnoses", "procedures", "mcc", "cc"):
            slow[k] = list(slow[k])
        assert r.to_dict(with_trace=True) == slow
        slow.pop("trace")
        assert r.to_dict() == slow


def test_trusted_codes_give_the_same_answers_faster(zj):
    """Codes of the code book are taken by one set lookup; anything else by the full rule."""
    from dianshu.grouping.records import trusted_codes

    trusted = trusted_codes(zj.codebook.diagnoses.names, zj.codebook.procedures.names, ["has space ", ""])
    assert "J18.900" in trusted and "has space " not in trusted and "" not in trusted
    ok = {"id": "t", "diagnoses": ["J18.900", "I10.x00x002"], "procedures": ["96.7101", "not-a-code"]}
    assert parse_input(ok, trusted) == parse_input(ok)
    for bad in (["J18.900", ""], ["J18.900", 5], ["J18.900", ["I10.x00x002"]], [" J18.900"]):
        with pytest.raises(RecordError) as fast:
            parse_input({"id": "t", "diagnoses": bad}, trusted)
        with pytest.raises(RecordError) as slow:
            parse_input({"id": "t", "diagnoses": bad})
        assert (fast.value.field, fast.value.reason) == (slow.value.field, slow.value.reason)
    assert refused({"id": "t", "diagnoses": ["J18.900", ["x"]]}) == (
        "diagnoses[2]",
        "must be a string (got a JSON list)",
    )
