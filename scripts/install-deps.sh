#!/usr/bin/env bash
# Installs what entangle needs from Debian's packages; does nothing when all is there.
# Usage: scripts/install-deps.sh [--with-python] [--with-mpi]
set -euo pipefail

packages=(build-essential cmake pkg-config libeigen3-dev libboost-random-dev libyaml-cpp-dev
          libhdf5-dev libdeflate-dev zlib1g-dev libtbb-dev doctest-dev)
for arg in "$@"; do
  case "$arg" in
    --with-python) packages+=(python3 python3-h5py python3-xarray python3-h5netcdf python3-pandas
                              python3-numpy python3-netcdf4) ;;
    --with-notebooks) packages+=(python3 python3-h5py python3-xarray python3-h5netcdf python3-pandas
                                 python3-numpy python3-yaml python3-matplotlib python3-ipykernel jupyter-nbconvert) ;;
    --with-mpi) packages+=(openmpi-bin libopenmpi-dev) ;;
    *) echo "install-deps.sh: unknown option '$arg' (expected --with-python, --with-notebooks or --with-mpi)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps.sh: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
