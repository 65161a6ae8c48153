"""Small helpers shared by the example notebooks: where the inputs are, where figures go,
and the few readings of a results file every notebook needs (docs/results.md).

Inputs come from environment variables with defaults relative to the repository root, so
a notebook runs the same by hand (after `entangle run`, which writes results/<name>.h5)
and under scripts/run-notebooks.sh (which points the variables at its work directory).
"""
import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr
import yaml

# The notebooks live in <repo>/notebooks; Jupyter and nbconvert start them there.
REPO = Path(__file__).resolve().parent.parent
FIGURE_DIR_VARIABLE = "ENTANGLE_FIGURES"


def input_path(variable, default):
    """The path named by environment variable `variable`, else `default` under the repository."""
    value = os.environ.get(variable)
    path = Path(value) if value else REPO / default
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: set {variable}, or produce it first "
            f"(scripts/run-notebooks.sh shows the entangle command for each notebook)")
    return path


def figure_dir():
    """Where figures are saved: $ENTANGLE_FIGURES, else notebooks/figures."""
    path = Path(os.environ.get(FIGURE_DIR_VARIABLE) or REPO / "notebooks" / "figures")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(fig, name):
    """Saves a figure as <figure dir>/<name>.png (the names scripts/run-notebooks.sh checks)."""
    path = figure_dir() / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"saved {path}")
    return path


def open_group(path, group):
    """One group of a results file as an xarray Dataset, read into memory."""
    with xr.open_dataset(path, group=group, engine="h5netcdf") as ds:
        return ds.load()


def root_attributes(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode("utf-8") if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def read_table(path, name):
    """/tables/<name> as a DataFrame, text columns decoded and `point` labelled."""
    with h5py.File(path, "r") as f:
        table = pd.DataFrame(f[f"tables/{name}"][:])
        points = [p.decode("utf-8") if isinstance(p, bytes) else str(p) for p in f["coords/point"][:]]
    for column in table.columns[table.dtypes == object]:
        table[column] = table[column].str.decode("utf-8")
    table["point"] = table["point"].map(dict(enumerate(points)))
    return table


def lab_names(path):
    """Firms with a lab role, from /coords/firm_roles (e.g. `lab`, `lab+cloud`)."""
    roles = open_group(path, "coords")["firm_roles"].to_series()
    return [str(firm) for firm, role in roles.items() if "lab" in str(role).split("+")]


def chip_vendors(scenario_yaml):
    """chip -> vendor firm, from the resolved scenario text a results file carries."""
    chips = yaml.safe_load(scenario_yaml).get("chips") or {}
    return {name: spec["vendor"] for name, spec in chips.items()}


def over_replications(da):
    """Median and 5/25/75/95th percentiles over `replication` (dimension `quantile`)."""
    return da.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="replication", skipna=True)


def plot_band(ax, da, label=None, color=None):
    """Draws the median over replications with 50% and 90% bands; `da` is over (replication, time)."""
    q = over_replications(da)
    time = da["time"].values
    line, = ax.plot(time, q.sel(quantile=0.5), label=label, color=color, lw=1.6)
    ax.fill_between(time, q.sel(quantile=0.25), q.sel(quantile=0.75), color=line.get_color(), alpha=0.3, lw=0)
    ax.fill_between(time, q.sel(quantile=0.05), q.sel(quantile=0.95), color=line.get_color(), alpha=0.12, lw=0)
    return line


def t_quantile(p, dof):
    """Student-t quantile: the Cornish-Fisher series of Abramowitz & Stegun 26.7.5
    (error below 1e-4 from 5 degrees of freedom), so the notebooks need no scipy."""
    from statistics import NormalDist  # noqa: PLC0415
    x = NormalDist().inv_cdf(p)
    g = [(x**3 + x) / 4,
         (5 * x**5 + 16 * x**3 + 3 * x) / 96,
         (3 * x**7 + 19 * x**5 + 17 * x**3 - 15 * x) / 384,
         (79 * x**9 + 776 * x**7 + 1482 * x**5 - 1920 * x**3 - 945 * x) / 92160]
    dof = np.asarray(dof, dtype=float)
    return x + sum(gk / dof ** (k + 1) for k, gk in enumerate(g))


def paired_interval(diff, dim="replication", level=0.95):
    """Mean of paired differences B - A and its Student-t interval over `dim`, as
    `entangle compare` prints it: mean +- t(0.975, n-1) sd / sqrt(n) (docs/compare.md)."""
    n = diff.count(dim)
    mean = diff.mean(dim)
    half = t_quantile(0.5 + level / 2, np.maximum(n - 1, 1)) * diff.std(dim, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half
