"""The org scenarios of scripts/bench-fleet (issue 15): two teams, each on its own Salesforce sandbox, one worker
process; team B publishes one visit a second throughout, and B's publish→Task latency is measured alone and while
team A does something to the shared worker.

  orgs.py fairness ...   A publishes a burst of visits as fast as it can (--burst)
  orgs.py outage ...     A's Salesforce answers 503 to everything for --outage seconds while A publishes 5 visits/s
  orgs.py budget ...     A's org has spent most of its daily API calls (--api-max, --api-used); A publishes 20 visits/s
                         until the fleet stops at the reserve, then the limit is raised (--raise-after)

Each prints one line and writes one JSON result (--out); `orgs.py report FILE...` prints the table of docs/benchmarks.md.
B's latency is from the publish (just before basic_publish) to the Task's CreatedDate in B's sandbox (its change
feed, the same clock as bench.py's)."""

import argparse
import base64
import json
import random
import sys
import threading
import time
import urllib.parse
import urllib.request

import pika

from bench import Sandbox, now_iso, percentile, say, visit_started


def event_body(team, event_id, kind, data):
    return json.dumps({"id": event_id, "type": kind, "version": 1, "occurred_at": now_iso(), "team_id": team,
                       "data": data}).encode()


class Stream:
    """Publishes one team's visit.started events on its own connection, with confirms: `rate` visits a second
    (0: as fast as confirms allow) until `count` are out or `stop` is set. Notes each visit's publish time."""

    def __init__(self, url, exchange, team, run, rate, count=None, first=0):
        self.url, self.exchange, self.team, self.run = url, exchange, team, run
        self.rate, self.count, self.first = rate, count, first
        self.published = {}
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._publish, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join()
        if self.error:
            raise RuntimeError(f"publishing for {self.team} failed: {self.error!r}")

    def _publish(self):
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.url))
            channel = connection.channel()
            channel.confirm_delivery()
            rng = random.Random(f"{self.team}:{self.run}:{self.first}")  # the same stream every run
            start, i = time.time(), 0
            while not self.stop.is_set() and (self.count is None or i < self.count):
                if self.rate:
                    due = start + i / self.rate
                    while (wait := due - time.time()) > 0 and not self.stop.is_set():
                        time.sleep(min(wait, 0.05))
                    if self.stop.is_set():
                        break
                visit_id, data = visit_started(f"{self.run}{self.team}", self.first + i, rng)
                data["started_at"] = now_iso()
                event_id = f"evt_{self.run}_{self.team}_{self.first + i}"
                properties = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=event_id,
                                                  type="visit.started", timestamp=int(time.time()))
                published = time.time()
                channel.basic_publish(self.exchange, "visit.started", event_body(self.team, event_id, "visit.started", data),
                                      properties, mandatory=True)
                self.published[visit_id] = published
                i += 1
            connection.close()
        except Exception as error:  # noqa: BLE001 - reported by join()
            self.error = error


def burst(url, exchange, team, run, count, threads=4):
    """`count` visits for `team` as fast as `threads` confirming connections go; returns their publish times."""
    share = [count // threads + (1 if k < count % threads else 0) for k in range(threads)]
    streams, first = [], 0
    for n in share:
        streams.append(Stream(url, exchange, team, run, rate=0, count=n, first=first).start())
        first += n
    published = {}
    for stream in streams:
        stream.join()
        published.update(stream.published)
    return published


def landed_latencies(published, sandbox, wait_until):
    """Publish→Task latencies (ms) of `published` visits, polling `sandbox` until each landed or `wait_until`."""
    while time.time() < wait_until:
        sandbox.poll()
        landed = sandbox.visit_tasks()
        if all(v in landed for v in published):
            break
        time.sleep(0.3)
    landed = sandbox.visit_tasks()
    latencies = [(landed[v] - t) * 1000 for v, t in published.items() if v in landed]
    return latencies, len(published) - len(latencies)


def figures(latencies):
    return {"n": len(latencies), "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
            "max_ms": max(latencies) if latencies else None}


def parked(management, queue):
    """Messages in the parking queue, from the management API (`http://USER:PASSWORD@HOST:PORT`)."""
    url = urllib.parse.urlsplit(management)
    base = f"{url.scheme}://{url.hostname}:{url.port}"
    token = base64.b64encode(f"{url.username or 'guest'}:{url.password or 'guest'}".encode()).decode()
    request = urllib.request.Request(f"{base}/api/queues/%2F/{urllib.parse.quote(queue, safe='')}",
                                     headers={"authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["messages"]


def control(url, method, path, body=None):
    """A sandbox control route; `None` for an answer without a body (204)."""
    request = urllib.request.Request(f"{url.rstrip('/')}/_sandbox/{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
    return json.loads(data) if data else None


def b_alone(args, sandbox_b):
    """B alone: one visit a second for --alone seconds."""
    stream = Stream(args.amqp, args.exchange, "team_b", args.run + "alone", rate=1, count=args.alone).start()
    stream.join()
    latencies, missing = landed_latencies(stream.published, sandbox_b, time.time() + 60)
    return figures(latencies), missing


def fairness(args, sandbox_a, sandbox_b):
    alone, missing_alone = b_alone(args, sandbox_b)
    b = Stream(args.amqp, args.exchange, "team_b", args.run + "during", rate=1).start()
    time.sleep(1)
    began = time.time()
    published_a = burst(args.amqp, args.exchange, "team_a", args.run, args.burst)
    published_in = time.time() - began
    deadline = began + args.timeout
    while time.time() < deadline and len(sandbox_a.task_created) < args.burst:
        sandbox_a.poll()
        time.sleep(0.5)
    drained = time.time()
    b.stop.set()
    b.join()
    # B's visits published while A's burst was being worked through.
    during_published = {v: t for v, t in b.published.items() if began <= t <= drained}
    latencies, missing = landed_latencies(during_published, sandbox_b, time.time() + 120)
    return {"b_alone": alone, "b_during": figures(latencies), "b_missing": missing + missing_alone,
            "a_burst": args.burst, "a_published_s": published_in, "a_synced": len(sandbox_a.task_created),
            "a_drain_s": drained - began, "a_visits_per_s": len(sandbox_a.task_created) / max(drained - began, 1e-9)}


def outage(args, sandbox_a, sandbox_b):
    alone, missing_alone = b_alone(args, sandbox_b)
    control(args.sandbox_a, "DELETE", "requests")
    control(args.sandbox_a, "PUT", "faults", {"rules": [{"kind": "service_unavailable", "path": "/services/data/*"}]})
    b = Stream(args.amqp, args.exchange, "team_b", args.run + "during", rate=1).start()
    a = Stream(args.amqp, args.exchange, "team_a", args.run, rate=5).start()
    time.sleep(args.outage)
    a.stop.set()
    a.join()
    during_a = len(sandbox_a.task_created)
    requests = control(args.sandbox_a, "GET", "requests")
    requests = requests.get("requests", requests) if isinstance(requests, dict) else requests
    failed = sum(1 for r in requests if r.get("status") == 503)
    parked_during = parked(args.management, args.parking)
    control(args.sandbox_a, "DELETE", "faults")
    recovered = time.time()
    deadline = recovered + args.timeout
    while time.time() < deadline and len(sandbox_a.task_created) < len(a.published):
        sandbox_a.poll()
        time.sleep(0.5)
    all_synced = time.time()
    b.stop.set()
    b.join()
    latencies, missing = landed_latencies(b.published, sandbox_b, time.time() + 60)
    return {"b_alone": alone, "b_during": figures(latencies), "b_missing": missing + missing_alone,
            "outage_s": args.outage, "a_published": len(a.published), "a_synced_during": during_a,
            "a_synced": len(sandbox_a.task_created), "a_recovery_s": all_synced - recovered, "a_503": failed,
            "parked_during": parked_during, "parked": parked(args.management, args.parking)}


def budget(args, sandbox_a, sandbox_b):
    alone, missing_alone = b_alone(args, sandbox_b)
    control(args.sandbox_a, "PUT", "limits", {"max": args.api_max, "used": args.api_used})
    b = Stream(args.amqp, args.exchange, "team_b", args.run + "during", rate=1).start()
    a = Stream(args.amqp, args.exchange, "team_a", args.run, rate=20, count=args.budget_visits).start()
    began = time.time()
    # The fleet stops at the reserve: usage stops moving (but for the spaced probes).
    used, since, peak = args.api_used, time.time(), args.api_used
    while time.time() - began < args.timeout:
        time.sleep(1)
        now_used = control(args.sandbox_a, "GET", "limits")["used"]
        if now_used != used:
            used, since = now_used, time.time()
        peak = max(peak, now_used)
        if time.time() - since >= args.raise_after:
            break
    a.join()
    sandbox_a.poll()
    stopped_at, synced_at_stop = used, len(sandbox_a.task_created)
    parked_stopped = parked(args.management, args.parking)
    control(args.sandbox_a, "PUT", "limits", {"max": 100_000_000, "used": used})
    raised = time.time()
    deadline = raised + args.timeout
    first_after = None
    while time.time() < deadline and len(sandbox_a.task_created) < len(a.published):
        sandbox_a.poll()
        if first_after is None and len(sandbox_a.task_created) > synced_at_stop:
            first_after = time.time() - raised
        time.sleep(0.5)
    b.stop.set()
    b.join()
    latencies, missing = landed_latencies(b.published, sandbox_b, time.time() + 60)
    reserve_at = int(args.api_max * (1 - args.reserve))
    return {"b_alone": alone, "b_during": figures(latencies), "b_missing": missing + missing_alone,
            "api_max": args.api_max, "api_used_before": args.api_used, "reserve_at": reserve_at, "stopped_at": stopped_at,
            "a_published": len(a.published), "a_synced_at_stop": synced_at_stop, "a_synced": len(sandbox_a.task_created),
            "resumed_after_s": first_after, "parked_stopped": parked_stopped, "parked": parked(args.management, args.parking)}


def ms(value):
    return "-" if value is None else f"{value:,.0f} ms"


def report(paths):
    """Prints the table; returns 0, 1 when a run lost or parked something, 3 when only the 2x goal was missed."""
    lines, ok, goal = [], True, True
    for path in paths:
        with open(path) as file:
            r = json.load(file)
        alone, during = r["b_alone"], r["b_during"]
        ratio = (during["p99_ms"] / alone["p99_ms"]) if alone["p99_ms"] and during["p99_ms"] else None
        head = (f"{r['label']}: B alone p50 {ms(alone['p50_ms'])} p99 {ms(alone['p99_ms'])} (n {alone['n']}); "
                f"during p50 {ms(during['p50_ms'])} p99 {ms(during['p99_ms'])} (n {during['n']}); "
                f"p99 ratio {'-' if ratio is None else f'{ratio:.2f}'}")
        lines.append(head)
        if r["scenario"] == "fairness":
            lines.append(f"  A: {r['a_burst']:,} visits published in {r['a_published_s']:.1f} s, {r['a_synced']:,} synced in "
                         f"{r['a_drain_s']:.1f} s ({r['a_visits_per_s']:,.0f} visits/s)")
            synced = r["b_missing"] == 0 and r["a_synced"] == r["a_burst"]
            ok = ok and synced
            lines.append(f"  {'PASS' if synced else 'FAIL'} every visit of A and B synced")
            if r.get("goal"):
                met = ratio is not None and ratio <= 2
                goal = goal and met
                lines.append(f"  {'PASS' if met else 'FAIL'} goal: B's p99 during A's burst within 2x of B alone")
        elif r["scenario"] == "outage":
            lines.append(f"  A: {r['outage_s']} s of 503: {r['a_published']} visits published, {r['a_synced_during']} synced during, "
                         f"{r['a_503']} answers of 503 (probes and the circuit's first failures); all {r['a_synced']} synced "
                         f"{r['a_recovery_s']:.1f} s after recovery; parked {r['parked_during']} during, {r['parked']} after")
            good = r["parked"] == 0 and r["a_synced"] == r["a_published"] and r["b_missing"] == 0
            ok = ok and good
            lines.append(f"  {'PASS' if good else 'FAIL'} nothing parked, A's visits all synced after recovery, B's all synced")
        elif r["scenario"] == "budget":
            resumed = "-" if r["resumed_after_s"] is None else f"{r['resumed_after_s']:.1f} s"
            lines.append(f"  A: allocation {r['api_max']:,}, {r['api_used_before']:,} used by other integrations, reserve from "
                         f"{r['reserve_at']:,}: stopped at {r['stopped_at']:,} with {r['a_synced_at_stop']} of {r['a_published']} "
                         f"visits synced, parked {r['parked_stopped']}; limit raised: first Task after {resumed}, "
                         f"{r['a_synced']} synced, parked {r['parked']}")
            good = (r["parked"] == 0 and r["a_synced"] == r["a_published"] and r["b_missing"] == 0
                    and r["stopped_at"] <= r["reserve_at"] + 10)
            ok = ok and good
            lines.append(f"  {'PASS' if good else 'FAIL'} stopped at the reserve (within the calls in flight and probes), "
                         "nothing parked, all synced once raised")
    print("\n".join(lines))
    return 0 if ok and goal else 1 if not ok else 3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("fairness", "outage", "budget"):
        m = commands.add_parser(name)
        m.add_argument("--label", required=True)
        m.add_argument("--run", required=True)
        m.add_argument("--amqp", required=True)
        m.add_argument("--exchange", required=True)
        m.add_argument("--sandbox-a", required=True)
        m.add_argument("--sandbox-b", required=True)
        m.add_argument("--management", required=True)
        m.add_argument("--parking", required=True)
        m.add_argument("--alone", type=int, default=30, help="seconds of B alone (one visit a second)")
        m.add_argument("--timeout", type=float, default=900)
        m.add_argument("--goal", action="store_true", help="the 2x goal applies to this run")
        m.add_argument("--burst", type=int, default=20000)
        m.add_argument("--outage", type=int, default=60)
        m.add_argument("--api-max", type=int, default=1000)
        m.add_argument("--api-used", type=int, default=600)
        m.add_argument("--reserve", type=float, default=0.2)
        m.add_argument("--budget-visits", type=int, default=600)
        m.add_argument("--raise-after", type=float, default=15, help="seconds without usage moving before the raise")
        m.add_argument("--out", required=True)
    commands.add_parser("report").add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "report":
        sys.exit(report(args.files))
    sandbox_a, sandbox_b = Sandbox(args.sandbox_a), Sandbox(args.sandbox_b)
    result = {"fairness": fairness, "outage": outage, "budget": budget}[args.command](args, sandbox_a, sandbox_b)
    result.update({"scenario": args.command, "label": args.label, "goal": args.goal})
    with open(args.out, "w") as file:
        json.dump(result, file)
    say(f"{args.label}: done")


if __name__ == "__main__":
    main()
