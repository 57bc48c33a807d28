import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_tenants.identity import AuthError, TokenCodec, bearer_token, principal_from_claims

SECRET = "s" * 40


def hs() -> TokenCodec:
    return TokenCodec(Settings(jwt_secret=SECRET))


def test_round_trip_hospital_user():
    codec = hs()
    tok = codec.encode(subject="u1", role=Role.hospital_user, tenant_ids=["330702"], hospital_id="H33070200001")
    p = codec.decode(tok)
    assert (p.subject, p.role, p.tenant_ids, p.hospital_id) == ("u1", Role.hospital_user, ("330702",), "H33070200001")


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"role": "root", "tenants": ["1"]}, "not a known role"),
        ({"role": "system", "tenants": ["1"]}, "cannot be used by a client"),
        ({"role": "region_admin", "tenants": []}, "non-empty list"),
        ({"role": "region_admin", "tenants": ["1", "2"]}, "exactly one tenant"),
        ({"role": "hospital_user", "tenants": ["1"]}, "exactly one tenant and its hospital"),
        ({"role": "city_admin", "tenants": ["1"], "hospital": "H"}, "cannot name a hospital"),
        ({"role": "integrator", "tenants": ["1"]}, "service account"),
    ],
)
def test_inconsistent_claims_are_refused(claims, message):
    with pytest.raises(AuthError, match=message):
        principal_from_claims({"sub": "x", **claims})


def test_expired_wrong_audience_wrong_key_and_tampered_tokens_are_refused():
    codec = hs()
    # Expired 60 s ago: beyond the default 30 s clock-skew leeway.
    expired = codec.encode(subject="u", role=Role.city_admin, tenant_ids=["330700"], ttl_seconds=-60)
    with pytest.raises(AuthError, match="expired"):
        codec.decode(expired)
    other_aud = jwt.encode(
        {
            "sub": "u",
            "iss": "dianshu",
            "aud": "other",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "role": "city_admin",
            "tenants": ["330700"],
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="invalid token"):
        codec.decode(other_aud)
    good = codec.encode(subject="u", role=Role.city_admin, tenant_ids=["330700"])
    with pytest.raises(AuthError, match="invalid token"):
        TokenCodec(Settings(jwt_secret="t" * 40)).decode(good)
    header, payload, sig = good.split(".")
    with pytest.raises(AuthError):
        codec.decode(f"{header}.{payload}x.{sig}")
    # alg=none is never accepted
    unsigned = jwt.encode({"sub": "u", "role": "city_admin", "tenants": ["1"]}, None, algorithm="none")
    with pytest.raises(AuthError):
        codec.decode(unsigned)


def test_bearer_header_parsing():
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    with pytest.raises(AuthError, match="Bearer"):
        bearer_token("Basic abc")


def _rsa_pair(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = tmp_path / "priv.pem"
    pub = tmp_path / "pub.pem"
    priv.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return key, priv, pub


def test_rs256_with_public_key_file(tmp_path):
    _, priv, pub = _rsa_pair(tmp_path)
    codec = TokenCodec(Settings(jwt_algorithm="RS256", jwt_public_key_file=pub, jwt_private_key_file=priv))
    tok = codec.encode(subject="u", role=Role.region_viewer, tenant_ids=["330703"])
    assert codec.decode(tok).role is Role.region_viewer
    # An HS256 token signed with the public key as secret (key-confusion attack) is refused.
    forged = jwt.encode(
        {
            "sub": "u",
            "iss": "dianshu",
            "aud": "dianshu-api",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "role": "city_admin",
            "tenants": ["330700"],
        },
        "a" * 40,
        algorithm="HS256",
    )
    with pytest.raises(AuthError):
        codec.decode(forged)


def test_rs256_with_jwks_file_selects_key_by_kid(tmp_path):
    key, _, _ = _rsa_pair(tmp_path)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    codec = TokenCodec(Settings(jwt_algorithm="RS256", jwt_jwks_file=jwks))
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "iss": "dianshu",
        "aud": "dianshu-api",
        "iat": now,
        "exp": now + 60,
        "role": "region_admin",
        "tenants": ["330702"],
    }
    tok = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert codec.decode(tok).subject == "idp-user"
    wrong_kid = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k2"})
    with pytest.raises(AuthError, match="unknown key id"):
        codec.decode(wrong_kid)
