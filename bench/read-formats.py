#!/usr/bin/env python3
"""The peers reading a whole variable into memory: netCDF4-python (masked
array) for NetCDF-4, astropy for FITS (no memory map, so the data are read).
Usage: read-formats.py KIND FILE. Prints JSON: seconds and a checksum."""
import json, sys, time
import numpy as np

kind, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if kind == "netcdf4":
    import netCDF4
    ds = netCDF4.Dataset(path)
    a = ds["tas"][:]
    seconds = time.perf_counter() - start
    check = float(np.ma.sum(a, dtype="f8"))
else:
    from astropy.io import fits
    with fits.open(path, memmap=False) as h:
        a = h[1 if kind == "rice" else 0].data
        seconds = time.perf_counter() - start
        check = float(np.sum(a, dtype="f8"))
print(json.dumps({"seconds": seconds, "check": check}))
