#!/usr/bin/env python3
"""The measuring side of scripts/bench-fleet (docs/benchmarks.md, "Fleet: bench-fleet").

  bench.py seed FILE                 the sandbox org every run starts from
  bench.py measure --out FILE …      publishes a stream, watches it land, writes one result as JSON
  bench.py report FILE…              the table per latency, the ratios and the goal checks

Publish times come from this process (time.time() just before basic_publish); a Task's creation time is the
sandbox change feed's `at` (milliseconds; Task CreatedDate is the same clock, but reading the feed is
incremental, so polling it does not load the sandbox). Salesforce calls are the sandbox's API usage counter
(GET /_sandbox/limits), which counts what a real org counts (composite and collections: one call each).
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import pika

CONTACTS, LEADS, ACCOUNTS = 400, 200, 50
TEAM = "team_bench"
OWNER = "owner@bench.example"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(message):
    print(f"[bench-fleet] {message}", file=sys.stderr, flush=True)


# --- the org ---------------------------------------------------------------------------------------------------

def account_id(j):
    return f"001BnchAcc{j:05d}"


def seed(path):
    records = {
        "Account": [{"Id": account_id(j), "Name": f"Bench Account {j:03d}"} for j in range(ACCOUNTS)],
        "Contact": [{"FirstName": "Contact", "LastName": f"N{i:04d}", "Email": f"contact{i:04d}@bench-contacts.example",
                     "AccountId": account_id(i % ACCOUNTS)} for i in range(CONTACTS)],
        "Lead": [{"FirstName": "Lead", "LastName": f"N{i:04d}", "Company": f"Lead Company {i % 37}",
                  "Email": f"lead{i:04d}@bench-leads.example", "Status": "Open - Not Contacted"} for i in range(LEADS)],
    }
    org = {
        "orgId": "00DBnch0000Bnch",
        "users": [
            {"Username": "admin@bench.example", "FirstName": "Ada", "LastName": "Admin", "Email": "admin@bench.example"},
            {"Username": OWNER, "FirstName": "Olive", "LastName": "Owner", "Email": OWNER, "IsActive": True},
        ],
        "records": records,
        "customTaskFields": [
            {"name": "DocSend_Visit_Id__c", "type": "string", "length": 255, "externalId": True, "unique": True, "caseSensitive": True},
            {"name": "DocSend_Link_Id__c", "type": "string", "length": 255, "externalId": True, "unique": True, "caseSensitive": True},
            {"name": "DocSend_Space_Link_Id__c", "type": "string", "length": 255, "externalId": True, "unique": True, "caseSensitive": True},
            {"name": "DocSend_Duration__c", "type": "double"},
            {"name": "DocSend_Percent_Viewed__c", "type": "double"},
        ],
        "oauthClients": [{"clientId": "sandbox-client-id", "clientSecret": "sandbox-client-secret",
                          "redirectURIs": ["*"], "rotateRefreshTokens": False,
                          "clientCredentialsUsername": "admin@bench.example", "refreshTokens": ["sandbox-refresh-token"]}],
        "limits": {"dailyApiRequests": 100000000, "used": 0},
    }
    with open(path, "w") as file:
        json.dump(org, file)


# --- the stream ------------------------------------------------------------------------------------------------

def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def visit_started(run, i, rng):
    """A new visit: 60% to a Contact, 25% to a Lead, 15% to an account fallback (unknown email, Account by name)."""
    visit_id = f"vis_{run}_{i:06d}"
    j = rng.randrange(ACCOUNTS)
    kind = i % 20
    if kind < 12:
        email, account = f"contact{rng.randrange(CONTACTS):04d}@bench-contacts.example", {"salesforce_account_id": account_id(j)}
    elif kind < 17:
        email, account = f"lead{rng.randrange(LEADS):04d}@bench-leads.example", {"salesforce_account_id": account_id(j)}
    else:
        email, account = f"stranger{i}@nowhere.example", {}
    account.update({"id": f"acc_{j:03d}", "name": f"Bench Account {j:03d}"})
    return visit_id, {
        "visit_id": visit_id, "link_id": f"lnk_{run}_{i % 97}", "link_owner_email": OWNER,
        "document": {"id": f"doc_{i % 31}", "name": f"Bench Deck {i % 31}.pdf",
                     "url": f"https://docsend.com/documents/doc_{i % 31}"},
        "account": account, "visitor": {"email": email, "name": f"Visitor {i}"},
        "analytics_url": f"https://docsend.com/view/analytics/visits/{visit_id}", "started_at": None,
    }


def stream(run, count, updates, seed_value):
    """[(position, visit_id or None, type, data)]: each visit.started, and for a fraction `updates` of the visits a
    visit.updated (ended) placed 50 positions later, as a DocSend client sends it while the visit goes on."""
    rng = random.Random(seed_value)
    events, later = [], {}
    for i in range(count):
        visit_id, data = visit_started(run, i, rng)
        events.append((visit_id, "visit.started", data))
        if rng.random() < updates:
            later.setdefault(i + 50, []).append(
                (None, "visit.updated", {"visit_id": visit_id, "duration_seconds": rng.randrange(5, 600),
                                         "percent_viewed": round(rng.uniform(1, 100), 1),
                                         "last_activity_at": None, "ended": True}))
        events.extend(later.pop(i, []))
    for rest in later.values():
        events.extend(rest)
    return events


class Publisher:
    """Publishes with confirms on `threads` connections; a visit's events stay on one connection, in order.
    `rate` (visits/s) paces the visit.started events; 0 publishes as fast as confirms allow."""

    def __init__(self, url, exchange, threads):
        self.url, self.exchange, self.threads = url, exchange, threads
        self.published = {}  # visit_id -> publish time of its visit.started

    def run(self, run, events, rate):
        lanes = [[] for _ in range(self.threads)]
        started_index = {}
        for visit_id, kind, data in events:
            if kind == "visit.started":
                started_index[visit_id] = len(started_index)
            index = started_index[visit_id or data["visit_id"]]
            lanes[index % self.threads].append((index, visit_id, kind, data))
        start = time.time() + 0.2
        errors = []

        def lane(items):
            try:
                connection = pika.BlockingConnection(pika.URLParameters(self.url))
                channel = connection.channel()
                channel.confirm_delivery()
                for sequence, (index, visit_id, kind, data) in enumerate(items):
                    due = start + (index / rate if rate else 0)
                    while (wait := due - time.time()) > 0:
                        time.sleep(wait)
                    stamp = now_iso()
                    data = dict(data)
                    if kind == "visit.started":
                        data["started_at"] = stamp
                    else:
                        data["last_activity_at"] = stamp
                    event_id = f"evt_{run}_{index}_{sequence}_{kind}"
                    body = json.dumps({"id": event_id, "type": kind, "version": 1, "occurred_at": stamp,
                                       "team_id": TEAM, "data": data}).encode()
                    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                                      message_id=event_id, type=kind, timestamp=int(time.time()))
                    published = time.time()
                    channel.basic_publish(self.exchange, kind, body, properties, mandatory=True)
                    if visit_id:
                        self.published[visit_id] = published
                connection.close()
            except Exception as error:  # reported by run(), which fails the measurement
                errors.append(error)

        workers = [threading.Thread(target=lane, args=(items,)) for items in lanes if items]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if errors:
            raise RuntimeError(f"publishing failed: {errors[0]!r}")


# --- what lands --------------------------------------------------------------------------------------------------

def http_json(url, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def parse_at(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


class Sandbox:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.after = 0
        self.task_created = {}  # Task id -> time
        self.poll()  # start after what is already there
        self.task_created.clear()

    def api_used(self):
        return http_json(f"{self.url}/_sandbox/limits")["used"]

    def poll(self):
        more = True
        while more:
            page = http_json(f"{self.url}/_sandbox/changes?after={self.after}")
            for change in page["changes"]:
                if change["sobject"] == "Task" and change["operation"] in ("create", "upsert-create"):
                    self.task_created[change["id"]] = parse_at(change["at"])
            self.after, more = page["last"], page["more"]

    def visit_tasks(self):
        """visit id -> creation time, for the Tasks created since this object was made."""
        records = http_json(f"{self.url}/_sandbox/records/Task")["records"]
        return {r["DocSend_Visit_Id__c"]: self.task_created[r["Id"]]
                for r in records if r.get("DocSend_Visit_Id__c") and r["Id"] in self.task_created}

    def await_tasks(self, count, deadline):
        while len(self.task_created) < count and time.time() < deadline:
            time.sleep(0.2)
            self.poll()
        return len(self.task_created) >= count

    def settle(self, quiet, deadline):
        """Waits until the API usage has not moved for `quiet` seconds (re-syncs done); returns the usage."""
        used, since = self.api_used(), time.time()
        while time.time() < deadline:
            time.sleep(0.5)
            now_used = self.api_used()
            if now_used != used:
                used, since = now_used, time.time()
            elif time.time() - since >= quiet:
                break
        return used


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else None


def latencies_ms(published, landed):
    return [(landed[v] - t) * 1000 for v, t in published.items() if v in landed]


def do_nothing_consumer(url, queue, count, results):
    """The broker + publisher bound: acks every message, notes when each visit.started arrived."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=500)
    seen = {}
    for method, _, body in channel.consume(queue, inactivity_timeout=1.0):
        if method is None:
            if results.get("stop"):
                break
            continue
        arrived = time.time()
        event = json.loads(body)
        if event["type"] == "visit.started":
            seen[event["data"]["visit_id"]] = arrived
        channel.basic_ack(method.delivery_tag)
        if len(seen) >= count:
            break
    results["seen"] = seen
    connection.close()


def await_go(directory, deadline):
    """Says the burst is queued (`published`), waits for the contender to consume (`go`, holding its pids) and
    returns (the time it was told, its pids)."""
    open(os.path.join(directory, "published"), "w").close()
    go = os.path.join(directory, "go")
    while not os.path.exists(go):
        if time.time() > deadline:
            raise RuntimeError("the contender did not start")
        time.sleep(0.01)
    started = time.time()
    with open(go) as file:
        return started, [int(p) for p in file.read().strip().split(",") if p]


def measure(args):
    run = args.run
    publisher = Publisher(args.amqp, args.exchange, args.publishers)
    deadline = time.time() + args.timeout
    pids = [int(p) for p in args.pids.split(",") if p]
    result = {"label": args.label, "latency_ms": args.latency, "visits": args.visits, "processes": len(pids)}
    events = stream(run, args.visits, args.updates, args.seed)

    if args.ideal_queue:
        with multiprocessing.Manager() as manager:
            shared = manager.dict()
            consumer = multiprocessing.Process(target=do_nothing_consumer,
                                               args=(args.amqp, args.ideal_queue, args.visits, shared))
            if args.queued:  # the burst first, then the consumer on it
                publisher.run(run, events, 0)
                started, _ = await_go(args.queued, deadline)
                consumer.start()
            else:  # consuming before the first publish
                consumer.start()
                time.sleep(1.0)
                publisher.run(run, events, 0)
                started = min(publisher.published.values())
            consumer.join(max(1, deadline - time.time()))
            if consumer.is_alive():
                shared["stop"] = True
                consumer.join(5)
            landed = dict(shared.get("seen", {}))
        lat = latencies_ms(publisher.published, landed)
        result.update(missing=args.visits - len(landed))
        if landed:
            result.update(seconds=max(landed.values()) - started, p50_ms=percentile(lat, 0.5),
                          p99_ms=percentile(lat, 0.99))
            result["visits_per_s"] = len(landed) / result["seconds"]
        return result

    sandbox = Sandbox(args.sandbox)
    used_before = sandbox.api_used()
    cpu_before = sum(proc_cpu(p) for p in pids)
    publisher.run(run, events, 0)
    started = min(publisher.published.values())
    if args.queued:
        # The contender starts now, on the queued burst; its CPU counts from its start. It may have written a
        # Task before it said it consumes: the clock starts at the earlier of the two.
        started, pids = await_go(args.queued, deadline)
        result["processes"] = len(pids)
        cpu_before = 0
    complete = sandbox.await_tasks(args.visits, deadline)
    landed = sandbox.visit_tasks()
    lat = latencies_ms(publisher.published, landed)
    result["missing"] = args.visits - len(landed)
    if landed:
        result["seconds"] = max(landed.values()) - min(started, min(landed.values()))
        result.update(visits_per_s=len(landed) / result["seconds"], p50_ms=percentile(lat, 0.5),
                      p99_ms=percentile(lat, 0.99))
    if not complete:
        say(f"{args.label}: only {len(landed)} of {args.visits} Tasks within {args.timeout}s")
        return result
    used = sandbox.settle(args.settle, deadline)
    result["calls"] = used - used_before
    result["calls_per_visit"] = result["calls"] / len(landed)
    result["cpu_s_per_1000"] = (sum(proc_cpu(p) for p in pids) - cpu_before) / len(landed) * 1000

    if args.lone:  # one visit on its own, once everything before it is done
        before = used
        lone_events = stream(f"{run}lone", 1, 0, args.seed + 1)
        expected = len(sandbox.task_created) + 1
        Publisher(args.amqp, args.exchange, 1).run(f"{run}lone", lone_events, 0)
        if sandbox.await_tasks(expected, deadline):
            used = sandbox.settle(args.settle, deadline)
            result["lone_calls"] = used - before
        else:
            result["missing"] += 1

    if args.half_rate:  # a paced stream at half the burst's rate: publish→Task when the fleet keeps up
        rate = max(1.0, result["visits_per_s"] / 2)
        count = int(max(50, min(args.visits, rate * args.paced_seconds)))
        paced = Publisher(args.amqp, args.exchange, args.publishers)
        expected = len(sandbox.task_created) + count
        paced.run(f"{run}half", stream(f"{run}half", count, args.updates, args.seed + 2), rate)
        if sandbox.await_tasks(expected, deadline):
            lat = latencies_ms(paced.published, sandbox.visit_tasks())
            result.update(half_rate=rate, half_count=count, half_p50_ms=percentile(lat, 0.5),
                          half_p99_ms=percentile(lat, 0.99))
        else:
            result["missing"] += expected - len(sandbox.task_created)
    result["peak_rss_mb"] = max(proc_peak_rss_mb(p) for p in pids) if pids else None
    return result


# --- the table ---------------------------------------------------------------------------------------------------

def fmt(value, spec="{:,.0f}"):
    return "—" if value is None else spec.format(value)


def report(paths, strict):
    order = ["ideal (broker)", "naive", "fleet, 1 process", "fleet, 3 processes"]
    results = sorted((json.load(open(p)) for p in paths),
                     key=lambda r: next((i for i, o in enumerate(order) if r["label"].startswith(o)), len(order)))
    by_latency = {}
    for r in results:
        by_latency.setdefault(r["latency_ms"], {})[r["label"]] = r
    checks = []
    for latency in sorted(by_latency):
        rows = by_latency[latency]
        print(f"\nSalesforce latency {latency} ms, {next(iter(rows.values()))['visits']:,} new visits")
        print(f"  {'contender':<22} {'visits/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'SF calls/visit':>15}"
              f" {'peak RSS MB':>12} {'CPU s/1000':>11}")
        for label, r in rows.items():
            print(f"  {label:<22} {fmt(r.get('visits_per_s'), '{:,.1f}'):>9} {fmt(r.get('p50_ms')):>8}"
                  f" {fmt(r.get('p99_ms')):>8} {fmt(r.get('calls_per_visit'), '{:.2f}'):>15}"
                  f" {fmt(r.get('peak_rss_mb'), '{:.0f}'):>12} {fmt(r.get('cpu_s_per_1000'), '{:.1f}'):>11}")
        print(f"  {'ideal (latency bound)':<22} {'—':>9} {2 * latency:>8} {2 * latency:>8}"
              "   (2 round trips: one lookup, one write)")

        def rate(label):
            return (rows.get(label) or {}).get("visits_per_s")

        def ratio(a, b):
            return rate(a) / rate(b) if rate(a) and rate(b) else None

        fleet1 = rows.get("fleet, 1 process", {})
        naive = next((label for label in rows if label.startswith("naive")), None)
        ratios = [("fleet-1 / naive", ratio("fleet, 1 process", naive) if naive else None),
                  ("fleet-3 / fleet-1", ratio("fleet, 3 processes", "fleet, 1 process")),
                  ("fleet-1 / ideal", ratio("fleet, 1 process", "ideal (broker)")),
                  ("fleet-3 / ideal", ratio("fleet, 3 processes", "ideal (broker)"))]
        if any(value is not None for _, value in ratios):
            print("  ratios of visits/s: " + ", ".join(f"{name} {value:.2f}" for name, value in ratios if value is not None))
        if "lone_calls" in fleet1:
            print(f"  a lone visit after the burst: {fleet1['lone_calls']} Salesforce calls (fleet, 1 process)")
        if "half_p99_ms" in fleet1:
            print(f"  at half the burst rate ({fleet1['half_rate']:.1f} visits/s, {fleet1['half_count']} visits):"
                  f" publish→Task p50 {fleet1['half_p50_ms']:,.0f} ms, p99 {fleet1['half_p99_ms']:,.0f} ms (fleet, 1 process)")
        if latency in (0, 50) and ratios[0][1] is not None:
            checks.append((f"fleet-1 ≥ 5× naive at {latency} ms", ratios[0][1] >= 5, f"{ratios[0][1]:.2f}×"))
        if latency > 0 and ratios[1][1] is not None:
            checks.append((f"fleet-3 ≥ 2.5× fleet-1 at {latency} ms", ratios[1][1] >= 2.5, f"{ratios[1][1]:.2f}×"))
        for label in ("fleet, 1 process", "fleet, 3 processes"):
            r = rows.get(label, {})
            if r.get("calls_per_visit") is not None:
                checks.append((f"{label}: SF calls per synced visit ≤ 0.1 at {latency} ms", r["calls_per_visit"] <= 0.1,
                               f"{r['calls_per_visit']:.2f} over {r['visits']:,} visits"))
            if r.get("peak_rss_mb") is not None:
                checks.append((f"{label}: peak RSS ≤ 100 MB per process at {latency} ms", r["peak_rss_mb"] <= 100,
                               f"{r['peak_rss_mb']:.0f} MB"))
        if "lone_calls" in fleet1:
            checks.append((f"a lone visit ≤ 2 SF calls at {latency} ms", fleet1["lone_calls"] <= 2, str(fleet1["lone_calls"])))
        if "half_p99_ms" in fleet1:
            checks.append((f"publish→Task p99 ≤ 500 ms at half rate, {latency} ms", fleet1["half_p99_ms"] <= 500,
                           f"{fleet1['half_p99_ms']:,.0f} ms"))
    print("\ngoals (from this run):")
    for name, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value}")
    failed_runs = [r for r in results if r.get("missing")]
    for r in failed_runs:
        print(f"RUN FAILED: {r['label']} at {r['latency_ms']} ms: {r['missing']} visit(s) without a Task")
    if failed_runs:
        return 1
    return 1 if strict and not all(ok for _, ok, _ in checks) else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed").add_argument("file")
    m = commands.add_parser("measure")
    m.add_argument("--label", required=True)
    m.add_argument("--run", required=True, help="a short id making this run's visit ids unique")
    m.add_argument("--latency", type=int, required=True)
    m.add_argument("--amqp", required=True)
    m.add_argument("--exchange", required=True)
    m.add_argument("--sandbox", help="the sandbox's base URL (control routes)")
    m.add_argument("--ideal-queue", help="instead of a worker: a do-nothing consumer on this queue")
    m.add_argument("--pids", default="", help="the worker processes, comma-separated (RSS, CPU)")
    m.add_argument("--visits", type=int, default=2000)
    m.add_argument("--updates", type=float, default=0.25)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--publishers", type=int, default=4)
    m.add_argument("--timeout", type=float, default=900)
    m.add_argument("--settle", type=float, default=8)
    m.add_argument("--lone", action="store_true")
    m.add_argument("--half-rate", action="store_true")
    m.add_argument("--paced-seconds", type=float, default=20)
    m.add_argument("--queued", help="a folder: queue the burst, then wait there for the contender (published, go)")
    m.add_argument("--out", required=True)
    r = commands.add_parser("report")
    r.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    r.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.file)
    elif args.command == "measure":
        result = measure(args)
        with open(args.out, "w") as file:
            json.dump(result, file)
        say(f"{args.label} at {args.latency} ms: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                                               for k, v in result.items() if k not in ("label",)))
        return 1 if result.get("missing") else 0
    else:
        return report(args.files, args.strict)


if __name__ == "__main__":
    sys.exit(main())
