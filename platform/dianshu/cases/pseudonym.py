"""Patient ids (人员编号, psn_no) are stored only as a keyed hash: HMAC-SHA256 of the id under the
site's secret key, truncated to its first 160 bits as 40 lower-case hex digits. 40 characters is
the national upload's psn_no length (char 40), so the export carries the pseudonym unchanged; 160
bits is the truncation RFC 2104 allows (at least half the output) and makes a collision among a
province's ids negligible. The same key gives the same pseudonym, so everything that joins on the
patient (readmissions, frequent admission, the workstation's last stay) works on pseudonyms; without
the key a pseudonym cannot be tested against a guessed id (a plain hash of a numeric id could).

The key: DIANSHU_PSN_KEY or the file DIANSHU_PSN_KEY_FILE (a mounted secret), at least 32
characters. Production refuses to start without one; dev and the tests use DEV_KEY with a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import re

LENGTH = 40  # hex digits kept: the national psn_no field's length
PSEUDONYM = re.compile(r"^[0-9a-f]{40}$", re.ASCII)
MIN_KEY_CHARS = 32
# Fixed (not generated per state directory) so that dev data, the demo and the tests agree; never
# accepted in prod (config refuses it).
DEV_KEY = "dianshu-dev-psn-key: not a secret, dev and tests only"


def pseudonym(psn_no: str, key: bytes) -> str:
    """The stored form of a patient id under `key`."""
    return hmac.new(key, psn_no.encode("utf-8"), hashlib.sha256).hexdigest()[:LENGTH]


class Pseudonymiser:
    """`pseudonym` under one key, remembered per id (a year repeats a patient's id on every stay)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._seen: dict[str, str] = {}

    def __call__(self, psn_no: str) -> str:
        p = self._seen.get(psn_no)
        if p is None:
            if len(self._seen) > 1_000_000:
                self._seen.clear()
            p = self._seen[psn_no] = pseudonym(psn_no, self._key)
        return p
