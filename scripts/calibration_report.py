#!/usr/bin/python3
"""Measures the baseline's calibration targets from a results file.

usage: /usr/bin/python3 scripts/calibration_report.py RESULTS.h5 [--update-doc docs/calibration.md] [--check]

The targets (measure, public value, source, band, whether a test checks it) are declared once,
in scripts/calibration_targets.csv next to this script; this script computes each measure per
replication and prints its median and 90% band (5th to 95th percentile over replications).

--update-doc FILE  rewrites the table between the markers
                   <!-- BEGIN CALIBRATION TABLE --> and <!-- END CALIBRATION TABLE --> in FILE.
--check            exits 1 when the median of a measure marked tested=yes lies outside its band
                   (the CTest test `calibration_baseline` runs this on a fresh baseline run).
"""
import csv
import math
import os
import sys

import numpy as np
import xarray as xr
import yaml

TARGETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration_targets.csv")
BEGIN, END = "<!-- BEGIN CALIBRATION TABLE -->", "<!-- END CALIBRATION TABLE -->"
BIG_FOUR = ["microsoft", "amazon", "google", "meta"]
REPORTED_CAPEX_2025 = 390e9  # mf capex.big4_total.guidance 2025 (~375-410 by basis): target 3c


def load_targets():
    with open(TARGETS, newline="") as f:
        return list(csv.DictReader(f))


def measures(path):
    """Every measure as an array over replications, keyed by target id."""
    group = lambda g: xr.open_dataset(path, group=g, engine="h5netcdf").isel(point=0).load()
    market, firm, chip, params = group("market"), group("firm"), group("chip"), group("params")
    import h5py
    with h5py.File(path, "r") as f:
        scenario = yaml.safe_load(f.attrs["scenario_yaml"])

    out = {}
    spot = market["spot_price"]
    mean_spot = lambda a, b: spot.sel(time=slice(a, b)).mean("time")
    s23, s24, s25 = mean_spot("2023-07", "2023-09"), mean_spot("2024-10", "2024-12"), mean_spot("2025-07", "2025-12")
    out["1a"], out["1b"], out["1c"] = s23, s24, s25
    out["1d"] = s25 / s23
    out["1e"] = (s23 - s24) / (s23 - s25)

    nvidia = firm["revenue"].sel(firm="nvidia")
    quarter = lambda a, b: nvidia.sel(time=slice(a, b)).sum("time") / 1e9
    for i, (a, b) in enumerate([("2023-02", "2023-04"), ("2023-11", "2024-01"), ("2024-11", "2025-01"),
                                ("2025-08", "2025-10")], start=1):
        out[f"2a.{i}"] = quarter(a, b)
    year = lambda series, y: series.sel(time=y).sum("time")
    out["2b.1"] = year(nvidia, "2024") / year(nvidia, "2023")
    out["2b.2"] = year(nvidia, "2025") / year(nvidia, "2024")

    big4 = firm["capex"].sel(firm=BIG_FOUR).sum("firm")
    out["3a"] = year(big4, "2024") / year(big4, "2023")
    out["3b"] = year(big4, "2025") / year(big4, "2024")
    out["3c"] = year(big4, "2025") / REPORTED_CAPEX_2025
    for i, y in enumerate(("2023", "2024", "2025"), start=1):
        out[f"3d.{i}"] = year(big4, y) / 1e9

    at = lambda v, name, month: firm[v].sel(firm=name, time=month).squeeze("time", drop=True)
    months = ("2023-12", "2024-12", "2025-12")
    for i, m in enumerate(months, start=1):
        out[f"4a.{i}"] = at("compute", "openai", m) / 1e3
        out[f"4b.{i}"] = at("revenue", "openai", m) * 12 / 1e9
        out[f"4e.{i}"] = at("revenue", "anthropic", m) * 12 / 1e9
    gw = at("compute", "openai", "2025-12") * 1.1e-6  # ~1.1 kW per H100e for the 2025 fleet (calibration.md conventions)
    out["4c"] = at("revenue", "openai", "2025-12") * 12 / 1e9 / gw
    out["4d.1"] = at("compute", "openai", "2024-12") / at("compute", "openai", "2023-12")
    out["4d.2"] = at("compute", "openai", "2025-12") / at("compute", "openai", "2024-12")

    # Capability gains = log10 of compute growth + log10 of algorithmic gain; the second uses each
    # replication's drawn halving time (a constant in the file is used as is).
    doubling = params["market__algo_doubling_months"] if "market__algo_doubling_months" in params \
        else float(scenario["market"]["algo_doubling_months"])
    algorithmic = 12.0 / doubling * np.log10(2)
    frontier = lambda month: market["frontier_capability"].sel(time=month).squeeze("time", drop=True)
    out["5a.1"] = 10 ** (frontier("2024-12") - frontier("2023-12") - algorithmic)
    out["5a.2"] = 10 ** (frontier("2025-12") - frontier("2024-12") - algorithmic)

    # Packaging (CoWoS) wafers: NVIDIA units shipped / good packages per wafer. The per-wafer counts
    # are the assumption of docs/calibration.md (target 6); only 2023-2025 families are needed.
    per_wafer = {"a100": 29.0, "h100": 29.0, "h200": 29.0, "gb200": 15.0}
    families = [str(c) for c in chip["chip"].values if str(c) in per_wafer]
    wafers_per_unit = xr.DataArray([1.0 / per_wafer[c] for c in families], dims="chip", coords={"chip": families})
    shipped = (chip["shipped"].sel(chip=families) * wafers_per_unit).sum("chip")
    out["6.1"] = year(shipped, "2024") / year(shipped, "2023")
    out["6.2"] = year(shipped, "2025") / year(shipped, "2024")
    return {k: np.asarray(v.values if hasattr(v, "values") else v, dtype=float) for k, v in out.items()}


def fmt(x):
    return "n/a" if not math.isfinite(x) else f"{x:.3g}"


def summarise(values):
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    return float(np.median(v)), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))


def band_text(t):
    if not t["lo"] and not t["hi"]:
        return "-"
    hi = float(t["hi"])
    return f">= {fmt(float(t['lo']))}" if math.isinf(hi) else f"{fmt(float(t['lo']))} to {fmt(hi)}"


def verdict(t, median):
    if not t["lo"] and not t["hi"]:
        return "not measured"
    inside = math.isfinite(median) and float(t["lo"]) <= median <= float(t["hi"])
    word = "yes" if inside else "**no**"
    return word if t["tested"] == "yes" else word + " (not tested)"


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    path = args[0]
    targets = load_targets()
    values = measures(path)
    rows, failures = [], []
    for t in targets:
        median, p5, p95 = summarise(values[t["id"]]) if t["id"] in values else (float("nan"),) * 3
        v = verdict(t, median)
        rows.append((t, median, p5, p95, v))
        print(f"{t['id']:5} median {fmt(median):>8}  90% band {fmt(p5):>8} to {fmt(p95):<8}  band {band_text(t):16} {v}")
        if t["tested"] == "yes" and not v.startswith("yes"):
            failures.append(t["id"])
    if "--update-doc" in args:
        doc = args[args.index("--update-doc") + 1]
        lines = ["| # | measure | public value | source | band checked | simulated median | 90% band | inside? |",
                 "|---|---|---|---|---|---|---|---|"]
        for t, median, p5, p95, v in rows:
            measure = t["measure"] + (f" ({t['unit']})" if t["unit"] else "")
            band = band_text(t) + (f"; {t['note']}" if t["note"] else "")
            spread = "-" if not math.isfinite(median) else f"{fmt(p5)} to {fmt(p95)}"
            lines.append(f"| {t['id']} | {measure} | {t['public']} | {t['source']} | {band} | {fmt(median)} | {spread} | {v} |")
        text = open(doc).read()
        if BEGIN not in text or END not in text:
            sys.exit(f"{doc}: markers {BEGIN} and {END} not found")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        open(doc, "w").write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    if "--check" in args:
        if failures:
            print("outside their bands: " + ", ".join(failures), file=sys.stderr)
            sys.exit(1)
        print("OK: every tested measure inside its band")


if __name__ == "__main__":
    main()
