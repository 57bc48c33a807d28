"""A hospital's own user never sees its peers' figures in a finding's evidence: with a level of two
or three hospitals the peers' percentile, the threshold built on it or the peers' share would be
another hospital's own figure."""

from __future__ import annotations

from decimal import Decimal as D

from dianshu_graphql.types.supervision import EvidenceFigure, FindingEvidence, SupervisionLevel, redacted


def _evidence() -> FindingEvidence:
    # A hospital's MCC share 0.31 against its peers' 90th percentile 0.12 (+ margin 0.10 = 0.22).
    return FindingEvidence(
        figure=D("0.31"),
        threshold=D("0.22"),
        peer_value=D("0.12"),
        unit="share",
        variant="mcc_peers",
        figures=[
            EvidenceFigure(name="cases", value="120"),
            EvidenceFigure(name="peers", value="2"),
            EvidenceFigure(name="peers_mcc_share", value="0.12"),
        ],
    )


def test_the_bureau_sees_everything():
    e = _evidence()
    assert redacted(e, SupervisionLevel.hospital, hospital_bound=False) is e


def test_a_hospital_sees_its_own_figure_but_none_of_its_peers():
    got = redacted(_evidence(), SupervisionLevel.hospital, hospital_bound=True)
    assert (got.figure, got.threshold, got.peer_value, got.unit, got.variant) == (
        D("0.31"),
        None,
        None,
        "share",
        "mcc_peers",
    )
    assert [(f.name, f.value) for f in got.figures] == [("cases", "120")]


def test_a_case_finding_keeps_its_fixed_threshold():
    # A case rule's threshold is a policy parameter (a 15-day window), not a peer figure.
    got = redacted(_evidence(), SupervisionLevel.case, hospital_bound=True)
    assert (got.threshold, got.peer_value) == (D("0.22"), None)
