#!/usr/bin/env bash
# Regenerates the netCDF-classic test files of this directory from the CDL
# next to them with netCDF-C's ncgen (and nccopy, see types-cdf5.nc below).
# Idempotent; can be run from any directory. Check with `ncdump X.nc`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

gen() { # kind cdl out
  rm -f "$3"
  ncgen -k "$1" -o "$3" "$2"
}

gen classic         types-classic.cdl   types-cdf1.nc
gen 64-bit-offset   types-classic.cdl   types-cdf2.nc

# types-cdf5.nc: ncgen 4.9.0 with `-k cdf5` declares every `int64` variable as
# `int` (32-bit) and truncates its data (ncgen -lc shows NC_INT), so
# `ncgen -k cdf5 -o types-cdf5.nc types-cdf5.cdl` gives a wrong file. The
# CDL is therefore compiled to netCDF-4 first and copied to CDF-5 with
# netCDF-C's nccopy, which keeps the int64 type and values.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ncgen -k nc4 -o "$tmp/types-cdf5.nc4" types-cdf5.cdl
rm -f types-cdf5.nc
nccopy -k cdf5 "$tmp/types-cdf5.nc4" types-cdf5.nc

gen classic         onerec-byte.cdl      onerec-byte.nc
gen cdf5            onerec-char-cdf5.cdl onerec-char-cdf5.nc
gen classic         empty-rec.cdl        empty-rec.nc
gen cdf5            cf-edges.cdl         cf-edges.nc
gen classic         cmip5-attrs.cdl      cmip5-attrs.nc

for f in types-cdf1.nc types-cdf2.nc types-cdf5.nc onerec-byte.nc onerec-char-cdf5.nc empty-rec.nc cf-edges.nc cmip5-attrs.nc; do
  printf '%-22s %-16s %6d bytes\n' "$f" "$(ncdump -k "$f")" "$(stat -c %s "$f")"
done
