#!/usr/bin/env python3
"""Writes the two Grafana dashboards of anycastd: anycastd-fleet.json (every region at a
glance) and anycastd-nva.json (one NVA in detail). They are generated so that both use the
same queries; the ctest monitoring_dashboards checks the committed files are what this
script writes, and interop_anycastctl that every metric they name is served by anycastd.

usage: dashboards.py [OUTPUT_DIR]   (default: this directory)
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}


class Board:
    def __init__(self):
        self.panels, self.y, self.next_id = [], 0, 1

    def row(self, title):
        self.panels.append({"type": "row", "title": title, "id": self.next_id, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.next_id += 1
        self.y += 1
        self.x = 0

    def panel(self, kind, title, targets, w=12, h=8, unit=None, description="", **extra):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + h
        p = {
            "type": kind,
            "title": title,
            "description": description,
            "id": self.next_id,
            "datasource": DS,
            "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
            "targets": [{"datasource": DS, "expr": e, "legendFormat": legend, "refId": chr(65 + i)}
                        for i, (e, legend) in enumerate(targets)],
            "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
            "options": {},
        }
        p.update(extra)
        self.panels.append(p)
        self.next_id += 1
        self.x += w
        if self.x >= 24:
            self.x, self.y = 0, self.y + h


def variable(name, query, label, multi=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": name}, "definition": query, "refresh": 2,
            "multi": multi, "includeAll": multi, "current": {}, "sort": 1}


def dashboard(uid, title, description, board, variables):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["anycastd", "bgp", "anycast"],
        "timezone": "browser",
        "schemaVersion": 38,
        "version": 1,
        "editable": True,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}}] + variables},
        "annotations": {"list": []},
        "panels": board.panels,
    }


# A VIP's announced state as a colour band: green announced, red withdrawn.
def two_states(zero, one):
    """A 0/1 series as a colour band: red for 0, green for 1, each with its name."""
    return {"defaults": {"mappings": [{"type": "value", "options": {
        "0": {"text": zero, "color": "red"}, "1": {"text": one, "color": "green"}}}]},
        "overrides": []}


ANNOUNCED = two_states("withdrawn", "announced")


def fleet():
    sel = 'region=~"$region"'
    b = Board()
    b.row("VIPs")
    b.panel("state-timeline", "VIP announced, per region",
            [(f"max by (region, vip) (anycastd_vip_announced{{{sel}}})", "{{region}} {{vip}}")], w=24,
            description="Green while the region announces the VIP; red while it is withdrawn.",
            fieldConfig=ANNOUNCED)
    b.panel("stat", "Regions announcing each VIP",
            [("sum by (vip) (anycastd_vip_announced)", "{{vip}}")], w=8,
            description="0 means no region announces it: clients cannot reach the application.",
            fieldConfig={"defaults": {"thresholds": {"mode": "absolute", "steps": [
                {"color": "red", "value": None}, {"color": "orange", "value": 1},
                {"color": "green", "value": 2}]}}, "overrides": []})
    b.panel("table", "VIP health state (degraded, draining, drained, held down)",
            [(f"max by (region, vip, state) (anycastd_vip_state{{{sel}}}) == 1", "")], w=16,
            description="The health state of every VIP with health checks, per region.",
            options={"showHeader": True})
    b.row("BGP")
    b.panel("timeseries", "Peers up, per region",
            [(f"sum by (region) (anycastd_bgp_session_up{{{sel}}})", "{{region}} up"),
             (f"count by (region) (anycastd_bgp_session_up{{{sel}}})", "{{region}} configured")])
    b.panel("table", "Peers down",
            [(f"anycastd_bgp_session_up{{{sel}}} == 0", "")],
            description="Sessions not Established; anycastctl show peers has the last error.")
    b.panel("timeseries", "UPDATEs per second, per region",
            [(f"sum by (region) (rate(anycastd_bgp_updates_received_total{{{sel}}}[$__rate_interval]))",
              "{{region}} in"),
             (f"sum by (region) (rate(anycastd_bgp_updates_sent_total{{{sel}}}[$__rate_interval]))",
              "{{region}} out")], unit="ops")
    b.panel("timeseries", "Session flaps (came up), per region",
            [(f"sum by (region) (increase(anycastd_bgp_session_established_total{{{sel}}}[$__range]))",
              "{{region}}")])
    b.row("Health checks")
    b.panel("timeseries", "Checks up, per region",
            [(f"sum by (region) (anycastd_check_up{{{sel}}})", "{{region}} up"),
             (f"count by (region) (anycastd_check_up{{{sel}}})", "{{region}} configured")])
    b.panel("timeseries", "Check latency p99, per region and check",
            [("histogram_quantile(0.99, sum by (le, region, check) "
              f"(rate(anycastd_check_duration_seconds_bucket{{{sel}}}[$__rate_interval])))",
              "{{region}} {{check}}")], unit="s")
    b.row("Proxy")
    b.panel("timeseries", "Open connections, per region",
            [(f"sum by (region) (anycastd_proxy_active_connections{{{sel}}})", "{{region}}")])
    b.panel("timeseries", "New connections per second, per region",
            [(f"sum by (region) (rate(anycastd_proxy_connections_total{{{sel}}}[$__rate_interval]))",
              "{{region}}")], unit="cps")
    b.panel("timeseries", "Bytes per second, per region",
            [(f"sum by (region) (rate(anycastd_proxy_received_bytes_total{{{sel}}}[$__rate_interval]))",
              "{{region}} from clients"),
             (f"sum by (region) (rate(anycastd_proxy_sent_bytes_total{{{sel}}}[$__rate_interval]))",
              "{{region}} to clients")], unit="Bps")
    b.panel("timeseries", "Backend errors and refused connections per second",
            [(f"sum by (region) (rate(anycastd_proxy_failures_total{{{sel}}}[$__rate_interval]))",
              "{{region}} backend errors"),
             (f"sum by (region) (rate(anycastd_proxy_refused_total{{{sel}}}[$__rate_interval]))",
              "{{region}} refused")], unit="cps")
    return dashboard("anycastd-fleet", "anycastd fleet",
                     "Every region's NVAs: VIP announcements, BGP peers, health checks, proxy.", b,
                     [variable("region", "label_values(anycastd_build_info, region)", "Region")])


def nva():
    sel = 'instance="$instance"'
    b = Board()
    b.row("This NVA")
    b.panel("stat", "Version", [(f"anycastd_build_info{{{sel}}}", "{{version}}")], w=6, h=4,
            options={"textMode": "name", "reduceOptions": {"calcs": ["lastNotNull"]}})
    b.panel("stat", "Uptime", [(f"time() - anycastd_process_start_time_seconds{{{sel}}}", "")],
            w=6, h=4, unit="s")
    b.panel("stat", "Peers up", [(f"sum(anycastd_bgp_session_up{{{sel}}})", "")], w=6, h=4)
    b.panel("stat", "VIPs announced", [(f"sum(anycastd_vip_announced{{{sel}}})", "")], w=6, h=4)
    b.row("VIPs")
    b.panel("state-timeline", "VIP announced",
            [(f"anycastd_vip_announced{{{sel}}}", "{{vip}}")],
            fieldConfig=ANNOUNCED)
    b.panel("state-timeline", "VIP health state",
            [(f"anycastd_vip_state{{{sel}}} == 1", "{{vip}} {{state}}")])
    b.row("BGP peers")
    b.panel("state-timeline", "Session up", [(f"anycastd_bgp_session_up{{{sel}}}", "{{peer}} AS{{remote_as}}")],
            fieldConfig=two_states("down", "Established"))
    b.panel("timeseries", "Prefixes accepted and advertised",
            [(f"anycastd_bgp_prefixes_accepted{{{sel}}}", "{{peer}} accepted"),
             (f"anycastd_bgp_prefixes_advertised{{{sel}}}", "{{peer}} advertised")])
    b.panel("timeseries", "UPDATEs per second",
            [(f"rate(anycastd_bgp_updates_received_total{{{sel}}}[$__rate_interval])", "{{peer}} in"),
             (f"rate(anycastd_bgp_updates_sent_total{{{sel}}}[$__rate_interval])", "{{peer}} out")],
            unit="ops")
    b.panel("timeseries", "Times Established",
            [(f"anycastd_bgp_session_established_total{{{sel}}}", "{{peer}}")])
    b.row("Health checks")
    b.panel("state-timeline", "Check up", [(f"anycastd_check_up{{{sel}}}", "{{check}}")],
            fieldConfig=two_states("down", "up"))
    b.panel("timeseries", "Check latency (last result, and p99)",
            [(f"anycastd_check_latency_seconds{{{sel}}}", "{{check}} last"),
             ("histogram_quantile(0.99, sum by (le, check) "
              f"(rate(anycastd_check_duration_seconds_bucket{{{sel}}}[$__rate_interval])))",
              "{{check}} p99")], unit="s")
    b.panel("timeseries", "Check failures per second, by reason",
            [(f'rate(anycastd_check_results_total{{{sel},result!="ok"}}[$__rate_interval]) > 0',
              "{{check}} {{result}}")], w=24)
    b.row("Proxy")
    b.panel("state-timeline", "Backend healthy",
            [(f"anycastd_proxy_backend_healthy{{{sel}}}", "{{service}} {{backend}}")])
    b.panel("timeseries", "Open connections",
            [(f"anycastd_proxy_active_connections{{{sel}}}", "{{service}} {{backend}}")])
    b.panel("timeseries", "New connections per second",
            [(f"rate(anycastd_proxy_connections_total{{{sel}}}[$__rate_interval])", "{{service}} {{backend}}")],
            unit="cps")
    b.panel("timeseries", "Bytes per second",
            [(f"rate(anycastd_proxy_received_bytes_total{{{sel}}}[$__rate_interval])", "{{backend}} from clients"),
             (f"rate(anycastd_proxy_sent_bytes_total{{{sel}}}[$__rate_interval])", "{{backend}} to clients")],
            unit="Bps")
    b.panel("timeseries", "Backend errors and refused connections per second",
            [(f"rate(anycastd_proxy_failures_total{{{sel}}}[$__rate_interval])", "{{service}} {{backend}} errors"),
             (f"rate(anycastd_proxy_refused_total{{{sel}}}[$__rate_interval])", "{{service}} refused")],
            unit="cps", w=24)
    return dashboard("anycastd-nva", "anycastd NVA", "One NVA: its VIPs, peers, checks and proxy.", b,
                     [variable("instance", "label_values(anycastd_build_info, instance)", "NVA",
                               multi=False)])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, d in (("anycastd-fleet.json", fleet()), ("anycastd-nva.json", nva())):
        with open(os.path.join(out, name), "w") as f:
            json.dump(d, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
