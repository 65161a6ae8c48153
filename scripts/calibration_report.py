#!/usr/bin/python3
"""Measures the baseline's calibration targets (docs/calibration.md) from a results file.

usage: /usr/bin/python3 scripts/calibration_report.py RESULTS.h5 [--update-doc docs/calibration.md]
Prints one line per target: id, simulated median, 90% band (5th-95th percentile over replications).
With --update-doc, writes those two columns into the targets table of the calibration page.
"""
import re
import sys

import numpy as np
import xarray as xr


def band(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "n/a", "n/a"
    fmt = lambda x: f"{x:.3g}"
    return fmt(np.median(v)), f"{fmt(np.quantile(v, 0.05))} to {fmt(np.quantile(v, 0.95))}"


def measures(path):
    open_group = lambda g: xr.open_dataset(path, group=g, engine="h5netcdf").isel(point=0).load()
    market, firm, chip = open_group("market"), open_group("firm"), open_group("chip")
    spot = market["spot_price"]
    mean_spot = lambda a, b: spot.sel(time=slice(a, b)).mean("time")
    s23, s24, s25 = mean_spot("2023-07", "2023-09"), mean_spot("2024-10", "2024-12"), mean_spot("2025-07", "2025-12")
    out = {"1a": s23, "1b": s24, "1c": s25, "1d": s25 / s23}
    nvidia = firm["revenue"].sel(firm="nvidia")
    quarter = lambda a, b: nvidia.sel(time=slice(a, b)).sum("time") / 1e9
    out["2a"] = [quarter("2023-02", "2023-04"), quarter("2023-11", "2024-01"), quarter("2024-11", "2025-01"),
                 quarter("2025-08", "2025-10")]
    year = lambda y: nvidia.sel(time=y).sum("time")
    out["2b"] = [year("2024") / year("2023"), year("2025") / year("2024")]
    big4 = firm["capex"].sel(firm=["microsoft", "amazon", "google", "meta"]).sum("firm")
    out["3"] = [big4.sel(time=y).sum("time") / 1e9 for y in ("2023", "2024", "2025")]
    at = lambda v, name, month: firm[v].sel(firm=name, time=month).squeeze("time", drop=True)
    months = ("2023-12", "2024-12", "2025-12")
    out["4a"] = [at("compute", "openai", m) / 1e3 for m in months]
    out["4b"] = [at("revenue", "openai", m) * 12 / 1e9 for m in months]
    gw = at("compute", "openai", "2025-12") * 1.1e-6  # ~1.1 kW per H100e in 2025 (calibration.md conventions)
    out["4c"] = [at("revenue", "openai", "2025-12") * 12 / 1e9 / gw,
                 at("compute", "openai", "2025-12") / at("compute", "openai", "2024-12")]
    out["4d"] = [at("revenue", "anthropic", m) * 12 / 1e9 for m in months]
    frontier = lambda month: market["frontier_capability"].sel(time=month).squeeze("time", drop=True)
    algorithmic = 12 / 8 * np.log10(2)  # the baseline's median algo_doubling_months
    out["5a"] = [10 ** (frontier("2024-12") - frontier("2023-12") - algorithmic),
                 10 ** (frontier("2025-12") - frontier("2024-12") - algorithmic)]
    nvidia_chips = [c for c in chip["chip"].values if str(c) in ("a100", "h100", "h200", "gb200", "rubin", "feynman")]
    shipped = chip["shipped"].sel(chip=nvidia_chips).sum("chip")
    out["6"] = [shipped.sel(time="2024").sum("time") / shipped.sel(time="2023").sum("time"),
                shipped.sel(time="2025").sum("time") / shipped.sel(time="2024").sum("time")]
    return out


def main():
    path = sys.argv[1]
    rows = {}
    for key, value in measures(path).items():
        values = value if isinstance(value, list) else [value]
        cells = [band(v.values) for v in values]
        rows[key] = (" / ".join(c[0] for c in cells), " / ".join(c[1] for c in cells))
        print(f"{key:3} median {rows[key][0]:30} 90% band {rows[key][1]}")
    if "--update-doc" in sys.argv:
        doc = sys.argv[sys.argv.index("--update-doc") + 1]
        text = open(doc).read()
        for key, (median, spread) in rows.items():
            pattern = re.compile(r"^(\| " + re.escape(key) + r" \|.*\|) [^|]* \| [^|]* \|$", re.M)
            text = pattern.sub(lambda m: f"{m.group(1)} {median} | {spread} |", text)
        open(doc, "w").write(text)


if __name__ == "__main__":
    main()
