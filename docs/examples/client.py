"""A complete Dianshu API client in Python, with gql (https://github.com/graphql-python/gql).

It reads who it is, pages through a region's hospitals, imports a roster entry as a job with an
idempotency key (and shows that a retry returns the same job), polls the job to its end, and shows
how a refused request reads. Run it against a served API (the README's "For integrators"):

    pip install 'gql[httpx]'
    export DIANSHU_URL=http://127.0.0.1:8000/graphql
    export DIANSHU_TOKEN=$(.venv/bin/dianshu token --role region_admin --tenant 330702)
    export DIANSHU_TENANT=330702
    python docs/examples/client.py

Optional: DIANSHU_HOSPITAL (the code to import; default H<tenant>99001) and DIANSHU_IDEMPOTENCY_KEY.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

ME = "query Me { me { role tenantCodes } }"

HOSPITALS = """
query Hospitals($tenant: String!, $after: String) {
  hospitals(tenant: $tenant, first: 2, after: $after) {
    nodes { id code name level coefficient }
    pageInfo { hasNextPage endCursor }
  }
}"""

IMPORT = """
mutation Import($input: ImportHospitalsInput!) {
  importHospitals(input: $input) {
    __typename
    ... on JobPayload { created job { id status } }
    ... on ValidationError { message errors { record field reason } }
    ... on PermissionDenied { message }
    ... on IdempotencyConflict { message idempotencyKey }
  }
}"""

# A job is a Node: node(id:) refetches it by the id the mutation returned.
POLL = """
query Poll($id: ID!) {
  node(id: $id) {
    ... on Job {
      status progress message
      error { message field errors { record field reason } }
      result { __typename ... on ImportHospitalsJobResult { rows inserted updated unchanged } }
    }
  }
}"""

TOO_LARGE_A_PAGE = "query TooLarge { hospitals(first: 500) { nodes { code } } }"


def request(text: str, **variables: object) -> GraphQLRequest:
    return GraphQLRequest(text, variable_values=variables or None)


def submit(session, tenant: str, hospital: str, key: str) -> dict:
    """importHospitals: every answer is one member of the result union, told by __typename."""
    entry = {"code": hospital, "name": "示例医院", "level": 2, "type": "general", "coefficient": "1.0000"}
    out = session.execute(request(IMPORT, input={"tenant": tenant, "idempotencyKey": key, "hospitals": [entry]}))[
        "importHospitals"
    ]
    kind = out["__typename"]
    if kind == "JobPayload":
        return out
    if kind == "ValidationError":
        reasons = "; ".join(f"{e['record']} {e['field']}: {e['reason']}" for e in out["errors"])
        sys.exit(f"refused: {out['message']} ({reasons})")
    if kind == "PermissionDenied":
        sys.exit(f"not allowed: {out['message']}")
    if kind == "IdempotencyConflict":
        sys.exit(f"key {out['idempotencyKey']} was used for other content: {out['message']}")
    sys.exit(f"unexpected answer {kind}")


def poll(session, job_id: str, timeout_s: float = 60.0) -> dict:
    """Poll until the job succeeds or fails, waiting a little longer each time (up to 5 s)."""
    deadline, wait = time.monotonic() + timeout_s, 0.2
    while True:
        job = session.execute(request(POLL, id=job_id))["node"]
        if job is None:
            sys.exit("the job is not visible to this token")
        if job["status"] in ("succeeded", "failed"):
            return job
        if time.monotonic() > deadline:
            sys.exit(f"job still {job['status']} after {timeout_s:.0f} s")
        time.sleep(wait)
        wait = min(wait * 2, 5.0)


def main() -> None:
    url, token, tenant = os.environ["DIANSHU_URL"], os.environ["DIANSHU_TOKEN"], os.environ["DIANSHU_TENANT"]
    hospital = os.environ.get("DIANSHU_HOSPITAL") or f"H{tenant}99001"
    key = os.environ.get("DIANSHU_IDEMPOTENCY_KEY") or f"example-{uuid.uuid4()}"
    transport = HTTPXTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    # The production API has no introspection: do not fetch the schema from the server (the
    # committed schema.graphql can be given as Client(schema=...) to validate documents locally).
    with Client(transport=transport, fetch_schema_from_transport=False) as session:
        me = session.execute(request(ME))["me"]
        print(f"me: {me['role']} of {', '.join(me['tenantCodes'])}")

        codes, after = [], None
        while True:
            page = session.execute(request(HOSPITALS, tenant=tenant, after=after))["hospitals"]
            codes += [h["code"] for h in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        print(f"hospitals: {len(codes)} ({', '.join(codes)})")

        first = submit(session, tenant, hospital, key)
        again = submit(session, tenant, hospital, key)  # a retry with the same key and content
        same = again["job"]["id"] == first["job"]["id"]
        print(f"submitted: created={first['created']}; retried: created={again['created']}, same job={same}")

        job = poll(session, first["job"]["id"])
        if job["status"] == "failed":
            sys.exit(f"job failed: {job['error']['message']}")
        r = job["result"]
        print(
            f"job: {job['status']} {r['__typename']} rows={r['rows']} inserted={r['inserted']} "
            f"updated={r['updated']} unchanged={r['unchanged']}"
        )

        try:
            session.execute(request(TOO_LARGE_A_PAGE))
        except TransportQueryError as e:
            error = (e.errors or [{}])[0]
            ext = error.get("extensions") or {}
            print(f"refused: {ext.get('code')} on {ext.get('field')}: {error.get('message')}")


if __name__ == "__main__":
    main()
