#!/usr/bin/env python3
"""The monitoring files in contrib/: the alerting rules pass `promtool check rules` and their
unit tests (`promtool test rules`); the committed Grafana dashboards are what
contrib/grafana/dashboards.py writes; every dashboard query is valid PromQL (checked by
promtool as a recording rule). metric_names() is also used by interop_anycastctl, which
checks every name against a running daemon's /metrics.

usage: monitoring.py SOURCE_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

# Grafana's variables, replaced by something PromQL accepts before promtool sees a query.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__range": "1h", "$region": ".*", "$instance": "x"}


def dashboard_queries(contrib):
    out = []
    for path in sorted(glob.glob(os.path.join(contrib, "grafana", "*.json"))):
        with open(path) as f:
            board = json.load(f)
        for p in board["panels"]:
            for t in p.get("targets", []):
                out.append((f"{os.path.basename(path)}: {p['title']}", t["expr"]))
    return out


def rule_exprs(contrib):
    text = open(os.path.join(contrib, "prometheus", "anycastd-alerts.yml")).read()
    return re.findall(r"^\s*expr:\s*(.+)$", text, re.M)


def metric_names(contrib):
    """{name: where} for every anycastd_ metric the dashboards and rules use; a histogram's
    _bucket series counts as the histogram."""
    names = {}
    for where, expr in dashboard_queries(contrib) + [("alert rule", e) for e in rule_exprs(contrib)]:
        for n in re.findall(r"\b(anycastd_[a-z0-9_]+)", expr):
            names.setdefault(re.sub(r"_bucket$", "", n), where)
    return names


def main():
    src = sys.argv[1]
    contrib = os.path.join(src, "contrib")
    failures = []
    prom = os.path.join(contrib, "prometheus")
    for cmd in (["promtool", "check", "rules", "anycastd-alerts.yml"],
                ["promtool", "test", "rules", "anycastd-alerts.test.yml"]):
        r = subprocess.run(cmd, cwd=prom, capture_output=True, text=True)
        print(f"{' '.join(cmd)}: exit {r.returncode}")
        if r.returncode != 0:
            failures.append(f"{' '.join(cmd)}:\n{r.stdout}{r.stderr}")

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(contrib, "grafana", "dashboards.py"), tmp],
                       check=True)
        for path in sorted(glob.glob(os.path.join(tmp, "*.json"))):
            committed = os.path.join(contrib, "grafana", os.path.basename(path))
            if not os.path.exists(committed) or open(committed).read() != open(path).read():
                failures.append(f"{committed} is not what dashboards.py writes: run "
                                "contrib/grafana/dashboards.py and commit the result")
        queries = dashboard_queries(contrib)
        rules = os.path.join(tmp, "queries.yml")
        with open(rules, "w") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (_, expr) in enumerate(queries):
                for k, v in GRAFANA_VARS.items():
                    expr = expr.replace(k, v)
                f.write(f"      - record: q{i}\n        expr: {json.dumps(expr)}\n")
        r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
        print(f"promtool check rules on the {len(queries)} dashboard queries: exit {r.returncode}")
        if r.returncode != 0:
            failures.append(f"a dashboard query is not valid PromQL:\n{r.stdout}{r.stderr}")
    if len(queries) < 20:
        failures.append(f"only {len(queries)} dashboard queries found")
    print(f"{len(metric_names(contrib))} anycastd metrics used by the dashboards and rules")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
