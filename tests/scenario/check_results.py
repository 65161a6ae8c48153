#!/usr/bin/python3
"""Checks that an entangle results file reads the way docs/results.md promises.

    /usr/bin/python3 tests/scenario/check_results.py OUT.h5

Opens every group with xarray (engine="h5netcdf") and asserts named dimensions
with their coordinate values (firm names, decoded datetime time, point labels,
replication index), units and long_name on every variable, and that
ds.sel(time="2025") works when 2025 is in range; reads both tables with h5py
and pandas. Exits 1 with a message naming the problem, prints OK otherwise.
"""
import sys

GROUP_DIMS = {  # variable dims every data group must use (FORMATS.md)
    "firm": ("point", "replication", "time", "firm"),
    "market": ("point", "replication", "time"),
    "chip": ("point", "replication", "time", "chip"),
    "params": ("point", "replication"),
}
NETWORK_DIMS = {
    "capacity_flow": ("point", "replication", "time", "supplier", "customer"),
    "equity": ("point", "replication", "time", "holder", "target"),
}
FIRM_LIKE = ("firm", "supplier", "customer", "holder", "target")
CONTRACT_COLUMNS = [
    "point", "replication", "id", "kind", "seller", "buyer", "signed", "start", "end",
    "quantity_h100e", "price_usd_per_h100e_hour", "value_usd", "exclusive", "rofr",
    "until_agi", "status", "end_reason",
]
EVENT_COLUMNS = ["point", "replication", "time", "kind", "firms", "text"]
ROOT_ATTRIBUTES = ["schema_version", "entangle_version", "command", "seed", "created",
                   "scenario_yaml", "complete"]


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def text(values):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def check_file(path):
    import h5py
    import numpy as np
    import pandas as pd
    import xarray as xr

    # The reference values, straight from HDF5.
    with h5py.File(path, "r") as f:
        for name in ROOT_ATTRIBUTES:
            require(name in f.attrs, f"root attribute {name!r} is missing")
        require(str(f.attrs["schema_version"]).startswith("1."), "schema_version is not 1.x")
        groups = set(f.keys())
        for name in ["coords", "firm", "market", "chip", "network", "params", "tables"]:
            require(name in groups, f"group /{name} is missing")
        complete = bool(f.attrs["complete"])
        firms = text(f["coords/firm"][:])
        points = text(f["coords/point"][:])
        # A sweep that keeps statistics has a `statistic` dimension in place of `replication`.
        rep = "statistic" if "statistic" in f["coords"] else "replication"
        n_rep = f[f"coords/{rep}"].shape[0]
        statistics = text(f["coords/statistic"][:]) if rep == "statistic" else []
        swept = {k for k, v in f["params"].items() if v.attrs.get("role") in ("swept", b"swept")}
        days = f["coords/time"][:]
    dates = pd.to_datetime("1970-01-01") + pd.to_timedelta(days, unit="D")
    expected = {"firm": firms, "point": points, "replication": list(range(n_rep)), "statistic": statistics}
    for dim in FIRM_LIKE:
        expected[dim] = firms

    summary = [f"complete={complete}"]
    for group in ["coords", "firm", "market", "chip", "network", "params"]:
        try:
            ds = xr.open_dataset(path, group=group, engine="h5netcdf")
        except Exception as e:  # noqa: BLE001 - report whatever xarray says
            raise CheckFailed(f"xarray cannot open group {group!r}: {type(e).__name__}: {e}")
        with ds:
            for name, var in ds.variables.items():
                where = f"/{group}/{name}"
                for attr in ("units", "long_name"):
                    # xarray moves the time's units into .encoding when it decodes.
                    present = attr in var.attrs or attr in var.encoding
                    require(present, f"{where} has no {attr!r} attribute")
            for name, var in ds.data_vars.items():
                where = f"/{group}/{name}"
                want = GROUP_DIMS.get(group) or NETWORK_DIMS.get(name)
                if want:
                    want = tuple(rep if d == "replication" else d for d in want)
                if group == "params" and name in swept:
                    want = ("point",)
                if group == "coords":
                    want = ("firm",) if name == "firm_roles" else None
                require(want is not None, f"unexpected variable {where}")
                require(var.dims == want, f"{where} has dims {var.dims}, expected {want}")
                for dim in var.dims:
                    require(dim in ds.coords, f"{where}: dimension {dim!r} has no coordinate values")
                if group == "params":
                    require("key_path" in var.attrs, f"{where} has no 'key_path' attribute")
            for dim, size in ds.sizes.items():
                require(dim in ds.coords, f"group {group!r}: dimension {dim!r} has no coordinate variable")
                values = ds[dim].values
                require(len(values) == size, f"/{group}/{dim} has {len(values)} values for size {size}")
                if dim in expected:
                    got = text(values) if dim != "replication" else [int(v) for v in values]
                    require(got == expected[dim], f"/{group}/{dim} is {got}, expected {expected[dim]}")
                elif dim == "time":
                    require(np.issubdtype(ds.time.dtype, np.datetime64),
                            f"/{group}/time decodes to {ds.time.dtype}, not datetime64")
                    require((pd.DatetimeIndex(ds.time.values) == dates).all(),
                            f"/{group}/time decodes to {ds.time.values}, expected {dates.values}")
                    require(ds.time.encoding.get("units") == "days since 1970-01-01",
                            f"/{group}/time units are {ds.time.encoding.get('units')!r}")
                    in_2025 = int((dates.year == 2025).sum())
                    if in_2025:
                        year = ds.sel(time="2025")
                        got = year.sizes["time"]
                        require(got == in_2025,
                                f"/{group}: sel(time='2025') gives {got} months, expected {in_2025}")
            summary.append(f"{group}({len(ds.data_vars)})")

    with h5py.File(path, "r") as f:
        for table, columns in (("contracts", CONTRACT_COLUMNS), ("events", EVENT_COLUMNS)):
            df = pd.DataFrame(f[f"tables/{table}"][:])
            require(list(df.columns) == columns,
                    f"/tables/{table} has columns {list(df.columns)}, expected {columns}")
            for column in df.columns[df.dtypes == object]:
                df[column] = df[column].str.decode("utf-8")
            require(df["point"].dtype.kind == "u" and df["replication"].dtype.kind == "u",
                    f"/tables/{table}: point/replication are not unsigned integers")
            if len(df):
                require(df["point"].max() < len(points), f"/tables/{table}: point out of range")
                require(rep == "replication", f"/tables/{table} has rows in a file of statistics")
                require(df["replication"].max() < n_rep, f"/tables/{table}: replication out of range")
            if table == "contracts":
                for column in ("exclusive", "rofr", "until_agi"):
                    require(df[column].dtype == bool,
                            f"/tables/contracts/{column} reads as {df[column].dtype}, not bool")
                for column in ("quantity_h100e", "price_usd_per_h100e_hour", "value_usd"):
                    require(df[column].dtype == np.float64, f"/tables/contracts/{column} is not float64")
            summary.append(f"{table}({len(df)} rows)")
    return summary


def main(argv):
    if len(argv) != 2:
        print("usage: check_results.py FILE.h5", file=sys.stderr)
        return 2
    try:
        summary = check_file(argv[1])
    except CheckFailed as e:
        print(f"check_results: FAILED: {argv[1]}: {e}", file=sys.stderr)
        return 1
    except ImportError as e:
        print(f"check_results: cannot run: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - an unreadable file is a failed check
        print(f"check_results: FAILED: {argv[1]}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"check_results: OK: {argv[1]}: " + ", ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
