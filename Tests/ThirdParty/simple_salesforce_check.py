#!/usr/bin/env python3
"""Drives the Salesforce sandbox with simple-salesforce, unchanged, as a real user would.

simple-salesforce builds every URL as https://{instance}, so it talks to the sandbox through a TLS front
(see tls_front.py) whose certificate is signed by a throwaway CA: REQUESTS_CA_BUNDLE points at that CA and
certificate verification stays on.

Environment:
    SF_INSTANCE_URL   https URL of the TLS front (what simple-salesforce is given)
    SF_CONTROL_URL    plain-HTTP URL of the sandbox itself (only for its /_sandbox control routes)
    SF_ACCESS_TOKEN   demo seed's access token (SandboxSeed.Demo.accessToken)
    SF_CLIENT_ID / SF_CLIENT_SECRET   demo seed's OAuth client (SandboxSeed.Demo.clientId / clientSecret)

Prints one `PASS name: detail` / `FAIL name: detail` line per check, then `N passed, N failed`.
Exits 1 when any check fails.
"""
import importlib.metadata
import json
import os
import sys
import traceback
import urllib.parse
import urllib.request
from typing import Any, Callable, List, Tuple

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

INSTANCE_URL = os.environ["SF_INSTANCE_URL"].rstrip("/")
CONTROL_URL = os.environ["SF_CONTROL_URL"].rstrip("/")
TOKEN = os.environ.get("SF_ACCESS_TOKEN", "sandbox-access-token")
CLIENT_ID = os.environ.get("SF_CLIENT_ID", "sandbox-client-id")
CLIENT_SECRET = os.environ.get("SF_CLIENT_SECRET", "sandbox-client-secret")
VERSION = "62.0"
MARKER = "third-party-check"


class CheckFailed(Exception):
    pass


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


def control(method: str, path: str, body: Any = None) -> Any:
    """Calls a sandbox control route (plain HTTP, never through simple-salesforce)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(CONTROL_URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def sf_client(token: str = TOKEN) -> Salesforce:
    return Salesforce(instance_url=INSTANCE_URL, session_id=token, version=VERSION)


def error_code(exc: Exception) -> str:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode"))
    return f"<no errorCode in {content!r}>"


def expect_raises(exc_type: type, status: int, code: str, fn: Callable[[], Any]) -> Exception:
    try:
        fn()
    except exc_type as exc:  # type: ignore[misc]
        expect(getattr(exc, "status", None) == status, f"{exc_type.__name__}.status {exc.status} != {status}")
        expect(error_code(exc) == code, f"errorCode {error_code(exc)} != {code}")
        return exc
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(f"expected {exc_type.__name__}, got {type(exc).__name__}: {exc}") from exc
    raise CheckFailed(f"expected {exc_type.__name__}, nothing raised")


# --- checks -------------------------------------------------------------------------------------------

def check_query() -> str:
    sf = sf_client()
    r = sf.query("SELECT Id, LastName, Email FROM Contact WHERE Email = 'alice@acme.example'")
    expect(r["done"] is True, f"done {r['done']}")
    expect(r["totalSize"] == 1 and len(r["records"]) == 1, f"totalSize {r['totalSize']}")
    rec = r["records"][0]
    expect(rec["attributes"]["type"] == "Contact", f"attributes {rec['attributes']}")
    expect(rec["attributes"]["url"].startswith(f"/services/data/v{VERSION}/sobjects/Contact/"), rec["attributes"]["url"])
    expect(len(rec["Id"]) == 18 and rec["Id"].startswith("003"), f"Id {rec['Id']}")
    return f"Contact {rec['Id']} ({rec['LastName']})"


def check_describe_global() -> str:
    sf = sf_client()
    d = sf.describe()
    names = {o["name"] for o in d["sobjects"]}
    for n in ("Account", "Contact", "Lead", "Task"):
        expect(n in names, f"{n} missing from describe global")
    return f"{len(names)} sobjects"


def check_sobject_metadata() -> str:
    sf = sf_client()
    md = sf.Task.metadata()  # GET sobjects/Task/ (trailing slash)
    expect(md["objectDescribe"]["name"] == "Task", f"objectDescribe {md.get('objectDescribe')}")
    return "GET sobjects/Task/ answered objectDescribe"


def check_task_describe() -> str:
    sf = sf_client()
    d = sf.Task.describe()
    fields = {f["name"]: f for f in d["fields"]}
    expect(d["name"] == "Task", f"name {d['name']}")
    visit = fields.get("DocSend_Visit_Id__c")
    expect(visit is not None, "DocSend_Visit_Id__c missing")
    expect(visit["externalId"] is True and visit["unique"] is True, f"DocSend_Visit_Id__c {visit}")
    expect(fields["Subject"]["type"] == "combobox" or fields["Subject"]["type"] == "string",
           f"Subject type {fields['Subject']['type']}")
    return f"{len(fields)} fields, DocSend_Visit_Id__c external id"


def check_task_crud() -> str:
    sf = sf_client()
    created = sf.Task.create({"Subject": f"{MARKER} crud", "WhoId": _alice_id(sf), "Status": "Not Started"})
    expect(created["success"] is True and created["errors"] == [], f"create {created}")
    tid = created["id"]
    expect(len(tid) == 18 and tid.startswith("00T"), f"id {tid}")
    got = sf.Task.get(tid)
    expect(got["Subject"] == f"{MARKER} crud" and got["IsClosed"] is False, f"get {got.get('Subject')} {got.get('IsClosed')}")
    status = sf.Task.update(tid, {"Status": "Completed"})
    expect(status == 204, f"update returned {status}")
    got = sf.Task.get(tid)
    expect(got["Status"] == "Completed" and got["IsClosed"] is True, f"after update {got['Status']} {got['IsClosed']}")
    status = sf.Task.delete(tid)
    expect(status == 204, f"delete returned {status}")
    exc = expect_raises(SalesforceResourceNotFound, 404, "ENTITY_IS_DELETED", lambda: sf.Task.get(tid))
    return f"create/get/update/delete {tid}; get after delete -> 404 {error_code(exc)}"


def check_upsert_and_custom_id() -> str:
    sf = sf_client()
    key = "visit-" + MARKER
    status = sf.Task.upsert(f"DocSend_Visit_Id__c/{key}", {"Subject": f"{MARKER} upsert", "WhoId": _alice_id(sf)})
    expect(status == 201, f"first upsert returned {status}")
    resp = sf.Task.upsert(f"DocSend_Visit_Id__c/{key}", {"Subject": f"{MARKER} upsert 2"}, raw_response=True)
    expect(resp.status_code in (200, 204), f"second upsert returned {resp.status_code}")
    if resp.status_code == 200:
        body = resp.json()
        expect(body.get("created") is False and body.get("success") is True, f"second upsert body {body}")
    got = sf.Task.get_by_custom_id("DocSend_Visit_Id__c", key)
    expect(got["Subject"] == f"{MARKER} upsert 2", f"get_by_custom_id Subject {got['Subject']}")
    expect(got["DocSend_Visit_Id__c"] == key, f"DocSend_Visit_Id__c {got['DocSend_Visit_Id__c']}")
    return f"upsert 201 then {resp.status_code}; get_by_custom_id ok"


def check_get_by_custom_id_slash() -> str:
    sf = sf_client()
    key = f"{MARKER}/slash-key"
    status = sf.Task.upsert(f"DocSend_Visit_Id__c/{urllib.parse.quote(key, safe='')}", {"Subject": f"{MARKER} slash"})
    expect(status == 201, f"upsert returned {status}")
    got = sf.Task.get_by_custom_id("DocSend_Visit_Id__c", key)  # quote_plus -> %2F
    expect(got["DocSend_Visit_Id__c"] == key, f"got {got.get('DocSend_Visit_Id__c')}")
    return f"GET sobjects/Task/DocSend_Visit_Id__c/{urllib.parse.quote_plus(key)}"


def check_upsert_several_matches() -> str:
    sf = sf_client()
    # DocSend_Link_Id__c is an external id that is not unique: two tasks with one value -> 300.
    for i in range(2):
        sf.Task.create({"Subject": f"{MARKER} link {i}", "DocSend_Link_Id__c": f"{MARKER}-link"})
    exc = None
    try:
        sf.Task.upsert(f"DocSend_Link_Id__c/{MARKER}-link", {"Subject": "x"})
    except SalesforceMoreThanOneRecord as e:
        exc = e
    expect(exc is not None, "no SalesforceMoreThanOneRecord")
    expect(exc.status == 300, f"status {exc.status}")
    expect(isinstance(exc.content, list) and len(exc.content) == 2, f"content {exc.content!r}")
    return f"300 -> SalesforceMoreThanOneRecord with {len(exc.content)} candidates"


def _seed_tasks(sf: Salesforce, n: int, tag: str) -> None:
    """Creates n Tasks through sObject Collections (200 a call) with simple-salesforce's restful()."""
    done = 0
    while done < n:
        batch = min(200, n - done)
        records = [{"attributes": {"type": "Task"}, "Subject": f"{tag} {done + i}"} for i in range(batch)]
        res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
        expect(isinstance(res, list) and len(res) == batch and all(r["success"] for r in res),
               f"collections create: {str(res)[:200]}")
        done += batch


def check_query_all_paging() -> str:
    sf = sf_client()
    tag = f"{MARKER} paging"
    _seed_tasks(sf, 2050, tag)
    q = f"SELECT Id, Subject FROM Task WHERE Subject LIKE '{tag} %'"
    first = sf.query(q)
    expect(first["totalSize"] == 2050, f"totalSize {first['totalSize']}")
    expect(first["done"] is False and len(first["records"]) == 2000, f"first page done={first['done']} n={len(first['records'])}")
    expect(first["nextRecordsUrl"].startswith(f"/services/data/v{VERSION}/query/"), first["nextRecordsUrl"])
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    expect(second["done"] is True and len(second["records"]) == 50, f"second page done={second['done']} n={len(second['records'])}")
    # query_more with the locator only (identifier_is_url=False) builds base_url + 'query/' + locator.
    # A fresh query: Salesforce says to use a locator only once.
    locator = sf.query(q)["nextRecordsUrl"].rsplit("/", 1)[1]
    third = sf.query_more(locator)
    expect(len(third["records"]) == 50, f"query_more(locator) n={len(third['records'])}")
    everything = sf.query_all(q)
    ids = {r["Id"] for r in everything["records"]}
    expect(everything["totalSize"] == 2050 and len(ids) == 2050, f"query_all {everything['totalSize']} / {len(ids)} distinct")
    return "2050 Tasks: 2000 + 50, query_more by URL and by locator, query_all 2050 distinct"


def check_query_batch_size_header() -> str:
    sf = sf_client()
    tag = f"{MARKER} paging"  # seeded by check_query_all_paging
    q = f"SELECT Id FROM Task WHERE Subject LIKE '{tag} %'"
    hdr = {"Sforce-Query-Options": "batchSize=500"}
    first = sf.query(q, headers=hdr)
    expect(len(first["records"]) == 500 and first["done"] is False, f"first page n={len(first['records'])}")
    pages = 0
    for _ in sf.query_all_iter(q, headers=hdr):
        pages += 1
    expect(pages == 2050, f"query_all_iter yielded {pages}")
    return "batchSize=500 honoured; query_all_iter 2050 records in 5 pages"


def check_query_all_include_deleted() -> str:
    sf = sf_client()
    created = sf.Task.create({"Subject": f"{MARKER} deleted"})
    sf.Task.delete(created["id"])
    q = f"SELECT Id, IsDeleted FROM Task WHERE Id = '{created['id']}'"
    live = sf.query(q)
    expect(live["totalSize"] == 0, f"query saw deleted: {live['totalSize']}")
    everything = sf.query_all(q, include_deleted=True)  # queryAll/
    expect(everything["totalSize"] == 1 and everything["records"][0]["IsDeleted"] is True, f"queryAll {everything}")
    return "queryAll/ returns the deleted Task"


def check_limits_and_api_usage() -> str:
    sf = sf_client()
    lim = sf.limits()
    dar = lim["DailyApiRequests"]
    expect(isinstance(dar["Max"], int) and isinstance(dar["Remaining"], int), f"DailyApiRequests {dar}")
    usage = sf.api_usage.get("api-usage")
    expect(usage is not None, f"api_usage {sf.api_usage}")
    expect(usage.total == dar["Max"], f"api-usage total {usage.total} != Max {dar['Max']}")
    expect(usage.used >= 1, f"api-usage used {usage.used}")
    before = usage.used
    sf.query("SELECT Id FROM Account LIMIT 1")
    after = sf.api_usage["api-usage"].used
    expect(after == before + 1, f"one query moved api-usage {before} -> {after}")
    task = sf.Task  # each `sf.Task` is a new SFType with its own api_usage
    t = task.create({"Subject": f"{MARKER} usage"})
    expect(task.api_usage["api-usage"].used == after + 1, f"SFType api_usage {task.api_usage}")
    task.delete(t["id"])
    return f"limits Max {dar['Max']}; api_usage {sf.api_usage['api-usage']}"


def check_composite() -> str:
    sf = sf_client()
    base = f"/services/data/v{VERSION}"
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {"method": "POST", "url": f"{base}/sobjects/Task", "referenceId": "t",
             "body": {"Subject": f"{MARKER} composite"}},
            {"method": "GET", "url": f"{base}/sobjects/Task/@{{t.id}}?fields=Id,Subject", "referenceId": "g"},
            {"method": "GET", "url": f"{base}/query?q=SELECT+Id+FROM+Contact+WHERE+LastName+=+'Anders'", "referenceId": "q"},
        ],
    }
    res = sf.restful("composite", method="POST", json=body)
    subs = {s["referenceId"]: s for s in res["compositeResponse"]}
    expect(subs["t"]["httpStatusCode"] == 201, f"t {subs['t']}")
    expect(subs["g"]["httpStatusCode"] == 200 and subs["g"]["body"]["Subject"] == f"{MARKER} composite", f"g {subs['g']}")
    expect(subs["q"]["httpStatusCode"] == 200, f"q {subs['q']}")
    # A failing subrequest under allOrNone rolls the whole request back.
    body2 = {
        "allOrNone": True,
        "compositeRequest": [
            {"method": "POST", "url": f"{base}/sobjects/Task", "referenceId": "ok", "body": {"Subject": f"{MARKER} rollback"}},
            {"method": "POST", "url": f"{base}/sobjects/Contact", "referenceId": "bad", "body": {"FirstName": "NoLastName"}},
        ],
    }
    res2 = sf.restful("composite", method="POST", json=body2)
    codes = [s["httpStatusCode"] for s in res2["compositeResponse"]]
    expect(codes[1] == 400, f"codes {codes}")
    left = sf.query(f"SELECT Id FROM Task WHERE Subject = '{MARKER} rollback'")
    expect(left["totalSize"] == 0, "allOrNone did not roll back")
    return f"create+get+query 201/200/200; allOrNone rollback codes {codes}"


def check_malformed_request() -> str:
    sf = sf_client()
    e1 = expect_raises(SalesforceMalformedRequest, 400, "MALFORMED_QUERY", lambda: sf.query("SELEC Id FROM Task"))
    expect(e1.resource_name == "query", f"resource_name {e1.resource_name!r}")
    expect_raises(SalesforceMalformedRequest, 400, "REQUIRED_FIELD_MISSING", lambda: sf.Contact.create({"FirstName": "x"}))
    e3 = expect_raises(SalesforceMalformedRequest, 400, "INVALID_FIELD",
                       lambda: sf.Task.create({"Subject": "x", "No_Such_Field__c": 1}))
    expect(e3.resource_name == "Task", f"SFType resource_name {e3.resource_name!r}")
    expect(isinstance(e3.content[0].get("message"), str) and "fields" in e3.content[0], f"envelope {e3.content}")
    return "MALFORMED_QUERY, REQUIRED_FIELD_MISSING, INVALID_FIELD -> SalesforceMalformedRequest"


def check_not_found() -> str:
    sf = sf_client()
    e = expect_raises(SalesforceResourceNotFound, 404, "NOT_FOUND", lambda: sf.Task.get(_id18("00T5g00000NoSuc")))
    expect(e.resource_name == "Task", f"resource_name {e.resource_name!r}")
    expect("Task" in str(e), f"str {e}")
    expect_raises(SalesforceResourceNotFound, 404, "NOT_FOUND",
                  lambda: sf.Task.get_by_custom_id("DocSend_Visit_Id__c", "no-such-visit"))
    return "unknown id and unknown external id -> SalesforceResourceNotFound NOT_FOUND"


def check_expired_session() -> str:
    bad = sf_client("00D000000000000!not-a-session")
    e = expect_raises(SalesforceExpiredSession, 401, "INVALID_SESSION_ID", lambda: bad.query("SELECT Id FROM Task"))
    expect_raises(SalesforceExpiredSession, 401, "INVALID_SESSION_ID", lambda: bad.Task.create({"Subject": "x"}))
    return f"bad token -> SalesforceExpiredSession ({e.content[0]['message']})"


def check_refused_daily_limit() -> str:
    sf = sf_client()
    saved = control("GET", "/_sandbox/limits")
    try:
        control("PUT", "/_sandbox/limits", {"max": saved["max"], "used": saved["max"]})
        e = expect_raises(SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED", lambda: sf.query("SELECT Id FROM Task"))
    finally:
        control("PUT", "/_sandbox/limits", saved)
    sf.query("SELECT Id FROM Account LIMIT 1")
    return f"daily limit spent -> SalesforceRefusedRequest ({e.content[0]['message'][:60]})"


def check_general_error_fault() -> str:
    sf = sf_client()
    control("POST", "/_sandbox/faults/rules", {"kind": "server_error", "count": 1, "path": "/services/data/*/sobjects/Task*"})
    e = expect_raises(SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION", lambda: sf.Task.create({"Subject": "x"}))
    expect("Error Code 500" in str(e), f"str {e}")
    control("POST", "/_sandbox/faults/rules", {"kind": "service_unavailable", "count": 1, "path": "/services/data/*/query*"})
    e2 = expect_raises(SalesforceGeneralError, 503, "SERVER_UNAVAILABLE", lambda: sf.query("SELECT Id FROM Task"))
    control("POST", "/_sandbox/faults/rules", {"kind": "unable_to_lock_row", "count": 1, "path": "/services/data/*/sobjects/Task*"})
    expect_raises(SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW", lambda: sf.Task.create({"Subject": "x"}))
    return f"500 and {e2.status} -> SalesforceGeneralError; UNABLE_TO_LOCK_ROW -> SalesforceMalformedRequest"


def check_client_credentials_login() -> str:
    """Salesforce(consumer_key, consumer_secret, domain) logs in with client_credentials.

    simple-salesforce posts to f'https://{domain}.salesforce.com/services/oauth2/token' and offers no way to
    name another host. Passing domain='127.0.0.1:PORT/services/oauth2/token#' makes that URL
    'https://127.0.0.1:PORT/services/oauth2/token#.salesforce.com/...': the fragment is never sent, so
    the request line is exactly POST /services/oauth2/token. The library is not modified; only its domain
    argument is bent, which no real org would need. Everything after the token comes from the response:
    the instance_url the sandbox advertises (set to the TLS front with PUT /_sandbox/info).
    """
    front = urllib.parse.urlparse(INSTANCE_URL)
    domain = f"{front.hostname}:{front.port}/services/oauth2/token#"
    control("PUT", "/_sandbox/info", {"baseURL": INSTANCE_URL})
    sf = Salesforce(consumer_key=CLIENT_ID, consumer_secret=CLIENT_SECRET, domain=domain, version=VERSION)
    expect(sf.auth_type == "client-credentials", f"auth_type {sf.auth_type}")
    expect(sf.sf_instance == f"{front.hostname}:{front.port}", f"sf_instance {sf.sf_instance}")
    r = sf.query("SELECT Id FROM Account")
    expect(r["totalSize"] >= 1, f"query {r['totalSize']}")
    first_session = sf.session_id
    # Every access token expires: simple-salesforce sees 401 INVALID_SESSION_ID, logs in again, retries.
    control("DELETE", "/_sandbox/tokens")
    r = sf.query("SELECT Id FROM Account")
    expect(r["totalSize"] >= 1, "query after expiry")
    expect(sf.session_id != first_session, "session was not renewed")
    t = sf.Task.create({"Subject": f"{MARKER} cc"})
    sf.Task.delete(t["id"])
    return "client_credentials login, query, re-login on 401 INVALID_SESSION_ID"


def _id18(id15: str) -> str:
    """Salesforce's case-safe 18-character form of a 15-character id."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")
        suffix += alphabet[bits]
    return id15 + suffix


def _alice_id(sf: Salesforce) -> str:
    return sf.query("SELECT Id FROM Contact WHERE Email = 'alice@acme.example'")["records"][0]["Id"]


CHECKS: List[Tuple[str, Callable[[], str]]] = [
    ("query", check_query),
    ("describe_global", check_describe_global),
    ("sobject_metadata", check_sobject_metadata),
    ("task_describe", check_task_describe),
    ("task_crud", check_task_crud),
    ("upsert_and_get_by_custom_id", check_upsert_and_custom_id),
    ("get_by_custom_id_slash", check_get_by_custom_id_slash),
    ("upsert_several_matches", check_upsert_several_matches),
    ("query_all_paging", check_query_all_paging),
    ("query_batch_size_header", check_query_batch_size_header),
    ("query_all_include_deleted", check_query_all_include_deleted),
    ("limits_and_api_usage", check_limits_and_api_usage),
    ("composite", check_composite),
    ("error_malformed_request_400", check_malformed_request),
    ("error_not_found_404", check_not_found),
    ("error_expired_session_401", check_expired_session),
    ("error_refused_request_403", check_refused_daily_limit),
    ("error_general_500", check_general_error_fault),
    ("client_credentials_login", check_client_credentials_login),  # last: it expires every access token
]


def main() -> int:
    only = set(sys.argv[1:])
    unknown = only - {name for name, _ in CHECKS}
    if unknown:
        print(f"unknown check(s): {', '.join(sorted(unknown))}; known: {', '.join(n for n, _ in CHECKS)}", flush=True)
        print("0 passed, 1 failed", flush=True)
        return 2
    print(f"simple-salesforce {importlib.metadata.version('simple-salesforce')} against {INSTANCE_URL}", flush=True)
    passed = failed = 0
    for name, fn in CHECKS:
        if only and name not in only:
            continue
        try:
            detail = fn()
            print(f"PASS {name}: {detail}", flush=True)
            passed += 1
        except Exception as exc:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
            if not isinstance(exc, CheckFailed):
                traceback.print_exc(limit=4, file=sys.stdout)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
