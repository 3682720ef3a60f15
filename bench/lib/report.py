#!/usr/bin/env python3
"""Turns the measurements of one bench/run into a CSV file, a Markdown table and chart data.

    report.py RESULTS_DIR                 writes results.csv, table.md and chart.dat there
    report.py RESULTS_DIR --docs FILE     also replaces the part of FILE between the
                                          "<!-- results:begin -->" and "<!-- results:end -->"
                                          lines with table.md

RESULTS_DIR contains measurements.tsv and machine.txt from bench/run and the raw wrk output that
measurements.tsv names.
"""

import csv
import re
import sys
from pathlib import Path

SCENARIO_TITLES = {
    "1": "1. No authentication, proxying to the origin",
    "2": "2. RS256 JWT checked against a key set",
    "3": "3. Opaque token, cached RFC 7662 introspection",
    "4": "4. nginx auth_request",
    "5": "5. Rule count",
}
UNIT_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# A run with more failed responses than this share is marked, because its speed then tells
# little about the contestant's normal path.
ERROR_SHARE_LIMIT = 0.01


def parse_wrk(path):
    """Returns requests/s, p50 and p99 in ms, request count and error count from wrk output."""
    text = path.read_text()
    result = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": 0}
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if match:
        result["rps"] = float(match.group(1))
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if match:
            result[f"p{percentile}_ms"] = float(match.group(1)) * UNIT_TO_MS[match.group(2)]
    match = re.search(r"(\d+) requests in", text)
    if match:
        result["requests"] = int(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if match:
        result["errors"] += int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        result["errors"] += sum(int(group) for group in match.groups())
    match = re.search(r"started over (\d+) times", text)
    result["pool_restarts"] = int(match.group(1)) if match else None
    return result


def load_rows(results):
    rows = []
    with open(results / "measurements.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["status"] == "ok":
                row.update(parse_wrk(results / row["wrk_file"]))
                row["cpu_seconds"] = float(row["cpu_seconds"])
                row["peak_rss_mib"] = int(row["peak_rss_kib"]) / 1024
                row["idle_rss_mib"] = int(row["idle_rss_kib"]) / 1024
                row["cpu_us_per_request"] = (
                    row["cpu_seconds"] / row["requests"] * 1e6 if row["requests"] else None
                )
                if row["rps"] is None:
                    row["status"] = "failed"
                    row["note"] = "wrk printed no result"
                elif row["requests"] and row["errors"] > ERROR_SHARE_LIMIT * row["requests"]:
                    row["status"] = "errors"
            rows.append(row)
    return rows


def group_of(row):
    """Returns the group a row is compared within: the scenario, split by token mode."""
    label = row["contestant"]
    for mode in ("one token", "new token"):
        if label.endswith(mode):
            return f'{row["scenario"]}, {mode}'
    return row["scenario"]


def add_ratios(rows):
    references = {}
    for row in rows:
        if row["reference"] == "yes" and row["status"] in ("ok", "errors"):
            references[group_of(row)] = row
    for row in rows:
        reference = references.get(group_of(row))
        row["reference_name"] = reference["contestant"] if reference else ""
        if row["status"] not in ("ok", "errors"):
            continue
        for key in ("rps", "p50_ms", "p99_ms", "cpu_seconds", "cpu_us_per_request", "peak_rss_mib"):
            value = row.get(key)
            base = reference.get(key) if reference else None
            row[f"{key}_ratio"] = value / base if value is not None and base else None


def cell(value, ratio=None, digits=1):
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if ratio is not None:
        text += f" ({ratio:.2f}×)"
    return text


def find(rows, scenario, prefix):
    for row in rows:
        if row["scenario"] == scenario and row["contestant"].startswith(prefix) and row["status"] in ("ok", "errors"):
            return row
    return None


def target_lines(rows):
    """Returns the Markdown list of targets, each met, missed or not measured."""
    nginx = find(rows, "1", "nginx proxy_pass")
    anonymous = find(rows, "1", "gatehouse anonymous")
    jwt_one = find(rows, "2", "gatehouse jwt, one token")
    jwt_new = find(rows, "2", "gatehouse jwt, new token")
    haproxy_one = find(rows, "2", "HAProxy jwt_verify, one token")
    haproxy_new = find(rows, "2", "HAProxy jwt_verify, new token")
    introspection = find(rows, "3", "gatehouse oauth2_introspection")
    apache_introspection = find(rows, "3", "Apache mod_oauth2")

    def ratio_target(name, numerator, denominator, goal):
        if numerator is None or denominator is None:
            return f"- {name} ≥ {goal}×: not measured in this run"
        ratio = numerator["rps"] / denominator["rps"]
        verdict = "met" if ratio >= goal else "missed"
        return (
            f"- {name} ≥ {goal}×: **{verdict}**, {ratio:.2f}× "
            f"({numerator['rps']:,.0f} vs {denominator['rps']:,.0f} requests/s)"
        )

    lines = [
        ratio_target("anonymous proxying vs nginx proxy_pass", anonymous, nginx, 0.9),
        ratio_target("JWT, one token repeated, vs nginx proxy_pass", jwt_one, nginx, 0.85),
        ratio_target("JWT, one token repeated, vs HAProxy jwt_verify", jwt_one, haproxy_one, 1.5),
        ratio_target("JWT, new token per request, vs HAProxy jwt_verify", jwt_new, haproxy_new, 1.0),
        ratio_target("cached introspection vs Apache mod_oauth2", introspection, apache_introspection, 2.0),
    ]
    # The target is for the plain proxy with one rule; the other gatehouse rows follow for
    # comparison, because caches and rule sets add to it.
    others = ", ".join(
        f"\"{row['contestant']}\" {row['idle_rss_mib']:.1f} MiB"
        for row in rows
        if row["contestant"].startswith("gatehouse") and row is not anonymous and row["status"] in ("ok", "errors")
    )
    if anonymous is None:
        lines.append("- gatehouse resident memory after start < 15 MiB: not measured in this run")
    else:
        verdict = "met" if anonymous["idle_rss_mib"] < 15 else "missed"
        lines.append(
            f"- gatehouse resident memory after start < 15 MiB: **{verdict}**, "
            f"{anonymous['idle_rss_mib']:.1f} MiB with one anonymous rule"
            + (f" (other runs: {others})" if others else "")
        )
    return lines


def read_machine(results):
    machine = {}
    for line in (results / "machine.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        machine[key] = value
    return machine


def markdown(rows, machine):
    out = []
    out.append(
        f"Run {machine.get('date_utc', '?')}: {machine.get('nproc', '?')} cores "
        f"({machine.get('cpu', '?')}), Linux {machine.get('kernel', '?')}; wrk with "
        f"{machine.get('wrk_threads', '?')} thread(s) and {machine.get('connections', '?')} "
        f"connections, {machine.get('warmup', '?')} s warm-up, {machine.get('duration', '?')} s "
        f"measured per contestant. Load average before and after: "
        f"{machine.get('load_during_run', '?')} / {machine.get('load_after_run', '?')}."
    )
    try:
        load_before = float(machine.get("load_during_run", "0").split()[0])
        cores = int(machine.get("nproc", "0"))
    except ValueError:
        load_before, cores = 0.0, 0
    if cores and load_before > cores:
        out.append("")
        out.append(
            f"⚠ The load average ({load_before:.1f}) exceeded the core count ({cores}) when the run "
            "started: other programs competed for the cores, so requests/s, latency and their ratios "
            "can be off by tens of per cent. CPU µs/request is the least affected figure."
        )
    out.append("")
    out.append("Versions: " + "; ".join(
        f"{name} {machine[name]}" for name in ("gatehouse", "nginx", "haproxy", "apache2",
                                               "mod_oauth2", "mod_auth_openidc", "wrk")
        if machine.get(name)
    ) + ".")
    out.append("")
    out.append(
        "Each figure in brackets is the ratio to the first row of its group (the reference). "
        "CPU is the contestant's user and system time during the measured run; memory is the "
        "sum over its processes of VmRSS after start and of VmHWM (peak) at the end."
    )
    out.append("")

    scenario = None
    for row in rows:
        if row["scenario"] != scenario:
            scenario = row["scenario"]
            out.append("")
            out.append(f"**{SCENARIO_TITLES.get(scenario, scenario)}**")
            out.append("")
            out.append(
                "| contestant | requests/s | p50 ms | p99 ms | CPU s | CPU µs/request "
                "| RSS after start MiB | peak RSS MiB | failed responses |"
            )
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        name = row["contestant"] + (" (reference)" if row["reference"] == "yes" else "")
        if row["status"] not in ("ok", "errors"):
            out.append(f"| {name} | {row['status']}: {row['note']} | | | | | | | |")
            continue
        errors = f"{row['errors']:,}"
        if row["status"] == "errors":
            errors += " ⚠"
        out.append(
            f"| {name} | {cell(row['rps'], row['rps_ratio'], 0)} "
            f"| {cell(row['p50_ms'], row['p50_ms_ratio'], 2)} "
            f"| {cell(row['p99_ms'], row['p99_ms_ratio'], 2)} "
            f"| {cell(row['cpu_seconds'], row['cpu_seconds_ratio'], 1)} "
            f"| {cell(row['cpu_us_per_request'], row['cpu_us_per_request_ratio'], 0)} "
            f"| {cell(row['idle_rss_mib'], None, 1)} "
            f"| {cell(row['peak_rss_mib'], row['peak_rss_mib_ratio'], 1)} "
            f"| {errors} |"
        )

    notes = [row for row in rows if row["status"] in ("ok", "errors") and row.get("note")]
    if notes:
        out.append("")
        for row in notes:
            restarts = row.get("pool_restarts")
            extra = f", token list restarted {restarts} times per wrk thread" if restarts is not None else ""
            out.append(f"- {row['contestant']}: {row['note']}{extra}.")

    out.append("")
    out.append("Targets:")
    out.append("")
    out.extend(target_lines(rows))
    return "\n".join(out) + "\n"


def write_csv(rows, path):
    columns = [
        "scenario", "contestant", "reference", "reference_name", "status", "rps", "rps_ratio",
        "p50_ms", "p50_ms_ratio", "p99_ms", "p99_ms_ratio", "cpu_seconds", "cpu_seconds_ratio",
        "cpu_us_per_request", "cpu_us_per_request_ratio", "idle_rss_mib", "peak_rss_mib",
        "peak_rss_mib_ratio", "requests", "errors", "note",
    ]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({
                key: (f"{value:.4g}" if isinstance(value, float) else value)
                for key, value in row.items()
            })


def write_chart_data(rows, path):
    """Writes one bar a line: x position, requests/s ratio, label, colour index."""
    lines = []
    position = 0
    previous = None
    colours = {"gatehouse": 1, "nginx": 2, "HAProxy": 3, "Apache": 4}
    for row in rows:
        if row["status"] not in ("ok", "errors") or row["rps_ratio"] is None:
            continue
        group = group_of(row)
        if previous is not None and group != previous:
            position += 1
        previous = group
        position += 1
        colour = next((index for prefix, index in colours.items() if row["contestant"].startswith(prefix)), 5)
        label = f"S{row['scenario']}: {row['contestant']}".replace('"', "'")
        lines.append(f'{position} {row["rps_ratio"]:.4f} "{label}" {colour}')
    path.write_text("\n".join(lines) + "\n")


def update_docs(table, docs):
    text = docs.read_text()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        sys.exit(f"report.py: {docs} has no {begin} ... {end} section to replace")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    docs.write_text(f"{head}{begin}\n{table}{end}{tail}")


def main():
    results = Path(sys.argv[1])
    rows = load_rows(results)
    add_ratios(rows)
    table = markdown(rows, read_machine(results))
    if len(sys.argv) == 4 and sys.argv[2] == "--docs":
        update_docs(table, Path(sys.argv[3]))
        return
    (results / "table.md").write_text(table)
    write_csv(rows, results / "results.csv")
    write_chart_data(rows, results / "chart.dat")


if __name__ == "__main__":
    main()
