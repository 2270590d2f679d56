#!/usr/bin/env python3
"""The checks of scripts/check-monitoring that are easier in Python than in bash (PyYAML; standard library else).

    monitoring.py prometheusrule RULES                  the PrometheusRule of a plain rule file, on stdout
    monitoring.py lint-rules RULES PROMETHEUSRULE RUNBOOK_MD
                                                        every alert's labels and annotations, its runbook section,
                                                        PROMETHEUSRULE equal to what RULES generates
    monitoring.py dashboard-rules DASHBOARD OUT         the dashboard's sanity; OUT: a rule file recording every
                                                        expression it queries (variables substituted) for promtool
    monitoring.py mutants RULES TESTS                   each alert made silent in turn: promtool test rules must fail
    monitoring.py selftest                              the metric-name extraction on known expressions
    monitoring.py names RULES DASHBOARD                 every metric name the rules and the dashboard use
    monitoring.py await-scrape ...                      polls a worker's and RabbitMQ's /metrics until the stream is
                                                        handled and every name is exported (or time is up)
    monitoring.py check-names RULES DASHBOARD WORKER_SCRAPE RABBITMQ_SCRAPE
                                                        every name used is in a real scrape; exits 1 listing the others
    monitoring.py close-connections MANAGEMENT_URL PID  closes the AMQP connections of process PID (management API)
    monitoring.py delete-prefix MANAGEMENT_URL PREFIX   deletes the queues and exchanges named PREFIX.* (and PREFIX.activity)

Exit status 0 when the check holds, 1 when it does not (with what is wrong on stderr), 2 on bad usage.
"""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

# Series Prometheus makes itself for every target: no exporter needs to export them.
PROMETHEUS_SERIES = {"up"}
# Where each family of names must come from.
SOURCES = (("docsend_sync_", "worker"), ("rabbitmq_", "rabbitmq"))
# Grafana's built-in interval variables, replaced by a typical value for promtool.
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h", "__range_s": "3600"}


def fail(message):
    print(f"monitoring.py: {message}", file=sys.stderr)
    sys.exit(1)


# --- PromQL: the metric names of an expression -------------------------------------------------------------------

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
    "atan2", "inf", "nan", "start", "end",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_TOKEN = re.compile(r"(?P<number>(?:0x[0-9a-fA-F]+|\d[\w.]*(?:[eE][+-]?\d+)?))|(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)")


def metric_names(expr):
    """The metric names an expression selects: identifiers that are not functions, aggregations, keywords,
    label names (in braces or groupings), durations or numbers."""
    text = re.sub(r"#[^\n]*", "", _STRING.sub('""', expr))
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _TOKEN.finditer(text):
        name = match.group("name")
        if not name or name.lower() in KEYWORDS:
            continue
        rest = text[match.end():].lstrip()
        if rest.startswith("("):  # a function or an aggregation
            continue
        names.add(name)
    # A selector with only label matchers names its metric in __name__.
    for matcher in re.finditer(r'__name__\s*=\s*"([^"]+)"', expr):
        names.add(matcher.group(1))
    return names


def selftest():
    cases = {
        'sum by (role, outcome) (rate(docsend_sync_messages_total{job=~"$job", outcome="parked"}[5m]))':
            {"docsend_sync_messages_total"},
        "histogram_quantile(0.99, sum by (le) (rate(docsend_sync_resync_lag_seconds_bucket[10m]))) > 120":
            {"docsend_sync_resync_lag_seconds_bucket"},
        "max by (org) (a_used) / max by (org) (a_limit > 0) > 0.8": {"a_used", "a_limit"},
        "sum(x offset 5m) by (le) + on (queue) group_left (vhost) y unless z or vector(0)": {"x", "y", "z"},
        'count(q{queue=~"p\\\\.(visits|links)"} == 0) or vector(1e3)': {"q"},
        'label_replace(up, "a", "$1", "instance", "(.*):.*")': {"up"},
        '{__name__="named_by_matcher"}': {"named_by_matcher"},
        "sum without (instance) (rate(c_total[1h:5m])) and bool d": {"c_total", "d"},
    }
    failures = 0
    for expr, expected in cases.items():
        got = metric_names(expr)
        if got != expected:
            failures += 1
            print(f"selftest: {expr!r}: expected {sorted(expected)}, got {sorted(got)}", file=sys.stderr)
    if failures:
        fail(f"{failures} of {len(cases)} metric-name extraction cases failed")
    print(f"metric-name extraction: {len(cases)} cases pass")


# --- rule files --------------------------------------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)

PROMETHEUSRULE_HEADER = """\
# GENERATED from deploy/prometheus/docsend-sync.rules.yml by `scripts/lib/monitoring.py prometheusrule`: do not edit;
# edit the rule file and regenerate (scripts/check-monitoring fails while the two differ).
# For the Prometheus Operator: its ruleSelector must match these labels (add yours, e.g. release: …, in the generator).
"""


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def prometheusrule_text(rules_path):
    rules = load_yaml(rules_path)
    document = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "docsend-sync",
            "labels": {"app.kubernetes.io/name": "docsend-sync", "app.kubernetes.io/component": "alerting"},
        },
        "spec": {"groups": rules["groups"]},
    }
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)
    return PROMETHEUSRULE_HEADER + body


def heading_anchors(markdown_path):
    """GitHub-style anchors of the headings of a Markdown file."""
    anchors = set()
    in_code = False
    with open(markdown_path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("```"):
                in_code = not in_code
            if in_code or not line.startswith("#"):
                continue
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            anchors.add(slug)
    return anchors


def lint_rules(rules_path, prometheusrule_path, runbook_path):
    rules = load_yaml(rules_path)
    anchors = heading_anchors(runbook_path)
    problems = []
    alerts = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert")
            if not name:
                continue
            alerts.append(name)
            labels = rule.get("labels") or {}
            annotations = rule.get("annotations") or {}
            if labels.get("severity") not in {"critical", "warning", "info"}:
                problems.append(f"{name}: labels.severity must be critical, warning or info")
            for key in ("summary", "description", "runbook_url"):
                if not annotations.get(key):
                    problems.append(f"{name}: annotations.{key} is missing")
            url = annotations.get("runbook_url", "")
            path, _, anchor = url.partition("#")
            if not path.endswith("docs/operations.md") or not anchor:
                problems.append(f"{name}: runbook_url must point to a section of docs/operations.md, got {url!r}")
            elif anchor not in anchors:
                problems.append(f"{name}: runbook_url anchor #{anchor} is not a heading of {runbook_path}")
            elif anchor != name.lower():
                problems.append(f"{name}: runbook_url anchor #{anchor} should be #{name.lower()} (its own section)")
    if len(set(alerts)) != len(alerts):
        problems.append("an alert name is used twice")
    with open(prometheusrule_path, encoding="utf-8") as handle:
        committed = handle.read()
    if committed != prometheusrule_text(rules_path):
        problems.append(
            f"{prometheusrule_path} differs from what {rules_path} generates: run "
            f"`python3 scripts/lib/monitoring.py prometheusrule {rules_path} > {prometheusrule_path}`")
    if problems:
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        fail(f"{len(problems)} problem(s) in the alert rules")
    print(f"alerts: {len(alerts)} ({', '.join(alerts)}), each with severity, summary, description and a runbook "
          f"section in {runbook_path}; {prometheusrule_path} matches the rule file")


def mutants(rules_path, tests_path):
    """Makes each alert silent in turn (its expression selects nothing) and runs the unit tests on it: they must
    fail, or that alert has no test that needs it to fire."""
    rules = load_yaml(rules_path)
    tests = load_yaml(tests_path)
    alerts = [rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    survivors = []
    with tempfile.TemporaryDirectory() as directory:
        for alert in alerts:
            mutant = load_yaml(rules_path)
            for group in mutant["groups"]:
                for rule in group["rules"]:
                    if rule.get("alert") == alert:
                        rule["expr"] = "vector(1) < 0"
            mutant_path = os.path.join(directory, "rules.yml")
            tests_copy = dict(tests, rule_files=[mutant_path])
            tests_copy_path = os.path.join(directory, "tests.yml")
            for path, document in ((mutant_path, mutant), (tests_copy_path, tests_copy)):
                with open(path, "w", encoding="utf-8") as handle:
                    yaml.dump(document, handle, Dumper=_Dumper, sort_keys=False, width=4096)
            result = subprocess.run(["promtool", "test", "rules", tests_copy_path], capture_output=True, text=True)
            state = "caught" if result.returncode != 0 else "NOT CAUGHT"
            print(f"  {alert} silenced: the unit tests {'fail' if result.returncode else 'still pass'} ({state})")
            if result.returncode == 0:
                survivors.append(alert)
    if survivors:
        fail(f"the unit tests pass with these alerts silenced: {', '.join(survivors)}")
    print(f"each of the {len(alerts)} alerts has a unit test that needs it to fire")


def rule_expressions(rules_path):
    """(where, expression) for every rule of a rule file."""
    found = []
    for group in load_yaml(rules_path).get("groups", []):
        for rule in group.get("rules", []):
            found.append((f"alert {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return found


# --- the dashboard -----------------------------------------------------------------------------------------------

def all_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:  # collapsed rows keep their panels inside
            yield inner


def variable_values(dashboard):
    """What each dashboard variable stands for in a PromQL expression checked by promtool."""
    values = dict(GRAFANA_BUILTINS)
    for variable in dashboard.get("templating", {}).get("list", []):
        kind = variable.get("type")
        if kind == "query" and variable.get("includeAll"):
            values[variable["name"]] = variable.get("allValue") or ".*"
        elif kind in ("textbox", "constant", "custom", "query"):
            current = variable.get("current", {}).get("value")
            if isinstance(current, list):
                current = current[0] if current else ""
            values[variable["name"]] = current if current not in (None, "", "$__all") else ".*"
    return values


_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def substitute(expr, values, where):
    def replace(match):
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"{where}: ${name} is not a variable of the dashboard")
        return values[name]
    return _VARIABLE.sub(replace, expr)


def dashboard_expressions(dashboard):
    """(where, expression) for every query of the dashboard: panel targets and query variables' selectors."""
    found = []
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []) or []:
            found.append((f"panel {panel.get('id')} {panel.get('title')!r} {target.get('refId')}", target.get("expr", "")))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else (query or "")
        match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query, re.S)
        if match:
            query = match.group(1)
        elif re.fullmatch(r"\s*label_values\(\s*\w+\s*\)\s*", query):
            continue
        found.append((f"variable ${variable['name']}", query))
    return found


def dashboard_rules(dashboard_path, out_path):
    try:
        with open(dashboard_path, encoding="utf-8") as handle:
            dashboard = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{dashboard_path}: not valid JSON: {error}")
    problems = []
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
        problems.append("schemaVersion must be 36 or later")
    variables = dashboard.get("templating", {}).get("list", [])
    if not any(v.get("type") == "datasource" and v.get("query") == "prometheus" and v.get("name") == "datasource"
               for v in variables):
        problems.append("no `datasource` template variable of type datasource (prometheus)")
    ids = [panel.get("id") for panel in all_panels(dashboard)]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids must be present and unique: {ids}")
    queried = 0
    for panel in all_panels(dashboard):
        kind = panel.get("type")
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        if not panel.get("title"):
            problems.append(f"{where}: no title")
        if "gridPos" not in panel:
            problems.append(f"{where}: no gridPos")
        if kind in ("row", "text"):
            if kind == "text" and not panel.get("options", {}).get("content"):
                problems.append(f"{where}: empty text")
            continue
        queried += 1
        if not panel.get("description"):
            problems.append(f"{where}: no description (operators read it at night)")
        if (panel.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"{where}: datasource must be the ${{datasource}} variable")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        for target in targets:
            if not (target.get("expr") or "").strip():
                problems.append(f"{where} {target.get('refId')}: empty expression")
            if (target.get("datasource") or {}).get("uid") not in (None, "${datasource}"):
                problems.append(f"{where} {target.get('refId')}: datasource must be the ${{datasource}} variable")
    values = variable_values(dashboard)
    recorded = []
    for index, (where, expr) in enumerate(dashboard_expressions(dashboard)):
        try:
            concrete = substitute(expr, values, where)
        except KeyError as error:
            problems.append(str(error.args[0]))
            continue
        recorded.append({"record": f"dashboard:query_{index}", "expr": concrete,
                         "labels": {"dashboard_query": where[:200]}})
    if problems:
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        fail(f"{len(problems)} problem(s) in {dashboard_path}")
    with open(out_path, "w", encoding="utf-8") as handle:
        yaml.dump({"groups": [{"name": "dashboard-expressions", "rules": recorded}]}, handle, Dumper=_Dumper,
                  sort_keys=False, width=200, allow_unicode=True)
    print(f"dashboard: {queried} panels with queries, {len(recorded)} expressions (panels and variables) "
          f"written for promtool with {', '.join(f'${k}={v}' for k, v in sorted(values.items()))}")


def used_names(rules_path, dashboard_path):
    """name -> [where it is used]."""
    with open(dashboard_path, encoding="utf-8") as handle:
        dashboard = json.load(handle)
    used = {}
    for where, expr in rule_expressions(rules_path) + dashboard_expressions(dashboard):
        for name in metric_names(expr):
            used.setdefault(name, []).append(where)
    return used


def source_of(name):
    if name in PROMETHEUS_SERIES:
        return "prometheus"
    for prefix, source in SOURCES:
        if name.startswith(prefix):
            return source
    return None


# --- scrapes -----------------------------------------------------------------------------------------------------

def parse_scrape(text):
    """sample name -> [(labels text, value)]; TYPE lines are ignored (histogram series carry their suffixes)."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if match:
            samples.setdefault(match.group(1), []).append((match.group(2) or "", match.group(3)))
    return samples


def fetch(url, timeout=10):
    request = urllib.request.Request(url)
    parsed = urllib.parse.urlsplit(url)
    if parsed.username:
        netloc = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        request = urllib.request.Request(urllib.parse.urlunsplit(parsed._replace(netloc=netloc)))
        token = base64.b64encode(f"{parsed.username}:{parsed.password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8", "replace")


def label(labels, key):
    match = re.search(rf'{key}="((?:[^"\\]|\\.)*)"', labels)
    return match.group(1) if match else None


def handled_count(worker):
    return sum(float(value) for _, value in worker.get("docsend_sync_messages_total", []))


def work_depth(rabbitmq, prefix):
    work = {f"{prefix}.{role}" for role in ("visits", "links", "leads")}
    depth = 0.0
    for name in ("rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked"):
        for labels, value in rabbitmq.get(name, []):
            if label(labels, "queue") in work:
                depth += float(value)
    return depth


def await_scrape(args):
    """await-scrape RULES DASHBOARD WORKER_URL RABBITMQ_URL PREFIX MIN_HANDLED TIMEOUT OUT_DIR: polls both endpoints
    every second until the worker settled at least MIN_HANDLED messages, the work queues are empty and every used
    name is exported, or TIMEOUT seconds passed; writes the last scrapes to OUT_DIR/worker.prom, rabbitmq.prom."""
    rules_path, dashboard_path, worker_url, rabbitmq_url, prefix, min_handled, timeout, out_dir = args
    used = used_names(rules_path, dashboard_path)
    deadline = time.monotonic() + float(timeout)
    last_report = 0.0
    worker_text = rabbitmq_text = ""
    while True:
        try:
            worker_text = fetch(worker_url)
            rabbitmq_text = fetch(rabbitmq_url)
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() > deadline:
                fail(f"scraping failed: {error}")
            time.sleep(1)
            continue
        worker, rabbitmq = parse_scrape(worker_text), parse_scrape(rabbitmq_text)
        exported = set(worker) | set(rabbitmq) | PROMETHEUS_SERIES
        missing = sorted(name for name in used if name not in exported)
        handled, depth = handled_count(worker), work_depth(rabbitmq, prefix)
        done = handled >= float(min_handled) and depth == 0 and not missing
        now = time.monotonic()
        if done or now > deadline or now - last_report >= 10:
            last_report = now
            print(f"  scrape: {handled:.0f} messages settled (want >= {min_handled}), {depth:.0f} in the work queues, "
                  f"{len(missing)} used name(s) not exported yet", file=sys.stderr)
        if done or now > deadline:
            break
        time.sleep(1)
    with open(f"{out_dir}/worker.prom", "w", encoding="utf-8") as handle:
        handle.write(worker_text)
    with open(f"{out_dir}/rabbitmq.prom", "w", encoding="utf-8") as handle:
        handle.write(rabbitmq_text)
    if handled < float(min_handled) or depth != 0:
        fail(f"the stream was not handled in {timeout} s: {handled:.0f} settled, {depth:.0f} still in the work queues")


# Labels Prometheus attaches to every series of a target.
TARGET_LABELS = {"job", "instance"}


def label_problems(where, expr, scrapes):
    """(problems, warnings): labels an expression matches on that no series of its metric carries (it then selects
    nothing), and labels it groups by that none of its metrics' series carries (the grouping then does not split)."""
    keys = {}
    for scrape in scrapes:
        for name, samples in scrape.items():
            for labels, _ in samples:
                keys.setdefault(name, set()).update(re.findall(r'([A-Za-z_]\w*)="', labels))
    problems = []
    text = _STRING.sub(lambda m: m.group(0) if m.group(0).startswith('"') else '""', expr)
    for name, matchers in re.findall(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}", text):
        if name not in keys:
            continue
        for key in re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", _STRING.sub('""', matchers)):
            if key not in keys[name] | TARGET_LABELS | {"__name__"}:
                problems.append(f"{where}: {name} has no label {key!r} (it has {', '.join(sorted(keys[name]))})")
    warnings = []
    carried = set(TARGET_LABELS)
    for name in metric_names(expr):
        carried |= keys.get(name, set())
    for group in re.findall(r"\bby\s*\(([^)]*)\)", _STRING.sub('""', expr)):
        for key in re.findall(r"[A-Za-z_]\w*", group):
            if key not in carried:
                warnings.append(f"{where}: groups by {key!r}, a label none of its metrics' series carries")
    return problems, warnings


def check_names(rules_path, dashboard_path, worker_path, rabbitmq_path):
    used = used_names(rules_path, dashboard_path)
    with open(worker_path, encoding="utf-8") as handle:
        worker = parse_scrape(handle.read())
    with open(rabbitmq_path, encoding="utf-8") as handle:
        rabbitmq = parse_scrape(handle.read())
    scrapes = {"worker": worker, "rabbitmq": rabbitmq}
    problems = []
    print(f"metric names used by the rules and the dashboard ({len(used)}), against a real scrape "
          f"(worker: {len(worker)} sample names, RabbitMQ /metrics/per-object: {len(rabbitmq)}):")
    for name in sorted(used):
        source = source_of(name)
        users = sorted(set(used[name]))
        if source is None:
            state = "UNKNOWN (neither docsend_sync_* nor rabbitmq_*)"
            problems.append(name)
        elif source == "prometheus":
            state = "ok (made by Prometheus)"
        elif name in scrapes[source]:
            state = f"ok ({source}, {len(scrapes[source][name])} series)"
        else:
            state = f"MISSING from the {source} scrape"
            problems.append(name)
        print(f"  {name:58} {state:34} {len(users)} use(s): {users[0]}{' …' if len(users) > 1 else ''}")
    with open(dashboard_path, encoding="utf-8") as handle:
        dashboard = json.load(handle)
    labelled, unsplit = [], []
    for where, expr in rule_expressions(rules_path) + dashboard_expressions(dashboard):
        found, warned = label_problems(where, expr, (worker, rabbitmq))
        labelled += found
        unsplit += warned
    for problem in labelled:
        print(f"  LABEL MISSING {problem}")
    for warning in unsplit:
        print(f"  warning: {warning}")
    if not labelled:
        print("  every label the expressions match on is carried by their metrics' series"
              + ("" if unsplit else ", and every label they group by"))
    problems += [f"label ({problem})" for problem in labelled]
    # A threshold an alert puts on a histogram quantile must fall within the histogram's finite buckets, or
    # histogram_quantile can never report more than the largest one and the alert never fires.
    for where, expr in rule_expressions(rules_path):
        match = re.search(r"histogram_quantile\(.*?([A-Za-z_:][\w:]*)_bucket.*\)\s*>\s*([0-9.]+)", expr, re.S)
        if not match:
            continue
        family, threshold = match.group(1), float(match.group(2))
        bounds = sorted({float(label(labels, "le")) for labels, _ in worker.get(f"{family}_bucket", [])
                         if label(labels, "le") not in (None, "+Inf")})
        if not bounds:
            continue  # reported as missing above
        if bounds[-1] < threshold:
            problems.append(f"{family}_bucket le>={threshold:g}")
            print(f"  {where}: threshold {threshold:g} is above the largest finite bucket of {family} "
                  f"({bounds[-1]:g}; buckets {', '.join(f'{b:g}' for b in bounds)}): the alert can never fire")
        else:
            print(f"  {where}: threshold {threshold:g} within the buckets of {family} (largest finite {bounds[-1]:g})")
    unused = sorted({re.sub(r"_(bucket|sum|count)$", "", name) for name in worker if name.startswith("docsend_sync_")}
                    - {re.sub(r"_(bucket|sum|count)$", "", name) for name in used})
    if unused:
        print(f"  exported by the worker, not on the dashboard or in the rules: {', '.join(unused)}")
    if problems:
        fail(f"{len(problems)} problem(s), metric names used but not exported or labels missing: {', '.join(problems)}")
    print(f"every metric name used ({len(used)}) is exported")


# --- the broker's management API ---------------------------------------------------------------------------------

def management(method, url):
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    request = urllib.request.Request(urllib.parse.urlunsplit(parsed._replace(netloc=netloc)), method=method)
    token = base64.b64encode(f"{parsed.username or 'guest'}:{parsed.password or 'guest'}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("X-Reason", "scripts/check-monitoring: a provoked reconnect")
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        return json.loads(body) if body else None


def close_connections(base, pid):
    """Closes every AMQP connection whose client-provided name ends with `(pid PID)`: the worker's consuming and
    publishing connections. Waits (up to 30 s) for the management API to list both."""
    suffix = f"(pid {pid})"
    deadline = time.monotonic() + 30
    while True:
        connections = management("GET", f"{base}/api/connections?columns=name,client_properties") or []
        mine = [c["name"] for c in connections
                if str((c.get("client_properties") or {}).get("connection_name", "")).endswith(suffix)]
        if len(mine) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(1)
    if not mine:
        fail(f"no AMQP connection of process {pid} listed by {base}")
    for name in mine:
        management("DELETE", f"{base}/api/connections/{urllib.parse.quote(name, safe='')}")
    print(f"closed {len(mine)} AMQP connection(s) of process {pid}")


def delete_prefix(base, prefix):
    deleted = 0
    for kind in ("queues", "exchanges"):
        for item in management("GET", f"{base}/api/{kind}?columns=name,vhost") or []:
            if item["name"].startswith(prefix + "."):
                vhost = urllib.parse.quote(item["vhost"], safe="")
                management("DELETE", f"{base}/api/{kind}/{vhost}/{urllib.parse.quote(item['name'], safe='')}")
                deleted += 1
    print(f"deleted {deleted} queue(s) and exchange(s) named {prefix}.*")


def main(argv):
    commands = {
        "prometheusrule": (1, lambda a: sys.stdout.write(prometheusrule_text(a[0]))),
        "lint-rules": (3, lambda a: lint_rules(*a)),
        "dashboard-rules": (2, lambda a: dashboard_rules(*a)),
        "selftest": (0, lambda a: selftest()),
        "mutants": (2, lambda a: mutants(*a)),
        "names": (2, lambda a: print("\n".join(sorted(used_names(*a))))),
        "await-scrape": (8, await_scrape),
        "check-names": (4, lambda a: check_names(*a)),
        "close-connections": (2, lambda a: close_connections(*a)),
        "delete-prefix": (2, lambda a: delete_prefix(*a)),
    }
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][0]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[argv[0]][1](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
