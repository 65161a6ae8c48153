#!/usr/bin/env bash
# Produces the inputs of the example notebooks with real entangle commands, executes every
# notebook headless (jupyter nbconvert --execute) and checks that each saved its figures.
#
# usage: scripts/run-notebooks.sh [--entangle PATH] [--work DIR] [--replications N]
#                                 [--threads N] [--require-all] [--only NAME] [--check-only]
#   --entangle PATH   the entangle binary (default: $ENTANGLE, else build/entangle, built if missing)
#   --work DIR        results, executed notebooks and figures go here (default: build/notebooks);
#                     nothing is written into notebooks/
#   --replications N  replications of the run and compare inputs (default: 24; small on purpose)
#   --threads N       entangle worker threads (default: 2; results do not depend on it)
#   --require-all     fail when a notebook is skipped because its entangle command is missing
#   --only NAME       run one notebook (e.g. 01_baseline); exit 77 if it has to be skipped
#   --check-only      only check that committed notebooks have no outputs and are all listed
#
# Exit codes: 0 every runnable notebook ran and saved every figure (skipped ones are listed);
# 1 a notebook failed, a figure is missing, a committed notebook has outputs, or an input
# could not be produced; 2 bad usage; 77 the Python/Jupyter tools are not installed
# (scripts/install-deps.sh --with-notebooks), which CTest reports as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# ---------------------------------------------------------------------------------------
# The notebooks: name | the entangle command its inputs need | the figures it must save.
# A notebook whose command this entangle lacks is skipped, loudly. To add a notebook, add a
# line here and a case in produce_inputs below.
notebooks=(
  "01_baseline|run|baseline_lab_compute baseline_lab_compute_share baseline_spot_vs_rental baseline_spot_market baseline_vendor_shares"
  "02_compare|compare|compare_paths compare_differences compare_intervals"
  "03_sweep|sweep|sweep_scatter sweep_sensitivity sweep_heatmap"
  "04_network|run|network_capacity_flow network_flow_graph network_equity network_supplier_hhi"
)
# ---------------------------------------------------------------------------------------

entangle=${ENTANGLE:-}
work=build/notebooks
replications=24
threads=2
require_all=false
only=""
check_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --entangle) entangle=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --replications) replications=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --require-all) require_all=true; shift ;;
    --only) only=$2; shift 2 ;;
    --check-only) check_only=true; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-notebooks.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3   # Debian's, with python3-h5py, -xarray, -matplotlib, jupyter-nbconvert
if ! "$python" -c "import h5py, h5netcdf, xarray, pandas, matplotlib, yaml, nbconvert, ipykernel" 2>/dev/null; then
  echo "run-notebooks.sh: SKIPPED: $python lacks the notebook packages; install them with" >&2
  echo "  scripts/install-deps.sh --with-notebooks" >&2
  exit 77
fi

# Committed notebooks carry no outputs, and every notebook is in the table above.
fail=0
if [ -z "$only" ]; then
  "$python" tests/notebooks/check_notebooks.py notebooks/*.ipynb || fail=1
  for path in notebooks/*.ipynb; do
    name=$(basename "$path" .ipynb)
    printf '%s\n' "${notebooks[@]}" | grep -q "^$name|" ||
      { echo "run-notebooks.sh: $path is not in the notebooks table of $0" >&2; fail=1; }
  done
  if $check_only; then
    [ $fail -eq 0 ] && echo "notebooks: ${#notebooks[@]} listed, committed without outputs"
    exit $fail
  fi
else
  printf '%s\n' "${notebooks[@]}" | grep -q "^$only|" ||
    { echo "run-notebooks.sh: no notebook '$only' in the notebooks table of $0" >&2; exit 2; }
fi

if [ -z "$entangle" ]; then
  entangle=build/entangle
  if [ ! -x "$entangle" ]; then
    echo "run-notebooks.sh: building entangle" >&2
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target entangle >/dev/null
  fi
fi
[ -x "$entangle" ] || { echo "run-notebooks.sh: no entangle binary at '$entangle'" >&2; exit 2; }

# A command is available unless entangle says it is not (exit 2, "not available").
available() {
  [ "$1" = run ] && return 0
  local said
  said=$("$entangle" "$1" 2>&1 </dev/null) && return 0
  [[ "$said" != *"not available"* ]]
}

mkdir -p "$work"
work=$(cd "$work" && pwd)
results="$work/results"
mkdir -p "$results" "$work/executed" "$work/logs"
common=(--threads "$threads" --quiet)

# Each notebook's inputs, produced once per command, and the variables that point it at them.
produced_run=false
produce_inputs() {  # notebook name -> $inputs: the NAME=VALUE assignments that point it at them
  case "$1" in
    01_baseline|04_network)
      if ! $produced_run; then
        "$entangle" run scenarios/baseline.yaml --replications "$replications" "${common[@]}" \
          -o "$results/baseline.h5" >&2 || return 1
        produced_run=true
      fi
      inputs=("ENTANGLE_BASELINE=$results/baseline.h5" "ENTANGLE_NETWORK=$results/baseline.h5") ;;
    02_compare)
      "$entangle" compare scenarios/baseline.yaml scenarios/whatif/msft_keeps_openai_exclusive.yaml \
        --replications "$replications" "${common[@]}" -o "$results/compare.h5" >&2 || return 1
      inputs=("ENTANGLE_COMPARE=$results/compare.h5") ;;
    03_sweep)  # points and replications as in the sweep files (small)
      "$entangle" sweep notebooks/sweeps/openai_share_lhs.yaml "${common[@]}" -o "$results/sweep_lhs.h5" >&2 || return 1
      "$entangle" sweep notebooks/sweeps/openai_share_grid.yaml "${common[@]}" -o "$results/sweep_grid.h5" >&2 || return 1
      inputs=("ENTANGLE_SWEEP=$results/sweep_lhs.h5" "ENTANGLE_SWEEP_GRID=$results/sweep_grid.h5") ;;
    *) echo "run-notebooks.sh: no inputs defined for notebook $1" >&2; return 1 ;;
  esac
}

# Jupyter, IPython and matplotlib keep their state under the work directory, not $HOME.
export JUPYTER_RUNTIME_DIR="$work/jupyter-runtime" IPYTHONDIR="$work/ipython" MPLCONFIGDIR="$work/matplotlib"
export PYDEVD_DISABLE_FILE_VALIDATION=1

inputs=() ran=() skipped=() failed=()
for entry in "${notebooks[@]}"; do
  IFS='|' read -r name command figures <<<"$entry"
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  if ! available "$command"; then
    skipped+=("$name (needs 'entangle $command')")
    continue
  fi
  start=$SECONDS
  if ! produce_inputs "$name"; then
    failed+=("$name: its inputs could not be produced")
    continue
  fi
  figure_dir="$work/figures/$name"
  rm -rf "$figure_dir" && mkdir -p "$figure_dir"
  log="$work/logs/$name.log"
  if ! env "${inputs[@]}" ENTANGLE_FIGURES="$figure_dir" "$python" -m nbconvert --to notebook --execute \
      --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.startup_timeout=180 --output-dir "$work/executed" "notebooks/$name.ipynb" >"$log" 2>&1; then
    failed+=("$name: execution failed (log: $log)")
    tail -n 40 "$log" | sed -e "s/\x1b\[[0-9;]*m//g" -e "s/^/  $name | /" >&2
    continue
  fi
  missing=()
  for figure in $figures; do
    file="$figure_dir/$figure.png"
    # a PNG starts with \x89PNG
    [ -s "$file" ] && [ "$(head -c 4 "$file" | tail -c 3)" = PNG ] || missing+=("$figure.png")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    failed+=("$name: figures missing in $figure_dir: ${missing[*]}")
    continue
  fi
  ran+=("$name ($(wc -w <<<"$figures") figures, $((SECONDS - start)) s)")
done

echo "notebooks: executed copies in $work/executed, figures in $work/figures"
for n in "${ran[@]}"; do echo "  ok       $n"; done
for n in "${failed[@]}"; do echo "  FAILED   $n"; done
if [ ${#skipped[@]} -gt 0 ]; then
  {
    echo "  ******************************************************************"
    for n in "${skipped[@]}"; do echo "  SKIPPED  $n: not available in this entangle yet"; done
    echo "  ******************************************************************"
  } >&2
  $require_all && fail=1
  [ -n "$only" ] && ! $require_all && exit 77
fi
[ ${#failed[@]} -eq 0 ] && [ $fail -eq 0 ]
