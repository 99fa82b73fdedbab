#!/usr/bin/env python3
"""The peers opening a file and reading a whole variable into memory:
netCDF4-python (masked array) for NetCDF-4, astropy for FITS (no memory map,
so the data are read). As read-formats.ts: four times in one process, the
median of the last three reported. Usage: read-formats.py KIND FILE. Prints
JSON: seconds and a checksum."""
import json, sys, time
import numpy as np
import netCDF4
from astropy.io import fits

kind, path = sys.argv[1], sys.argv[2]
times = []
for r in range(4):
    start = time.perf_counter()
    if kind == "netcdf4":
        ds = netCDF4.Dataset(path)
        a = ds["tas"][:]
        times.append(time.perf_counter() - start)
        check = float(np.ma.sum(a, dtype="f8"))
        ds.close()
    else:
        with fits.open(path, memmap=False) as h:
            a = h[1 if kind == "rice" else 0].data
            times.append(time.perf_counter() - start)
            check = float(np.sum(a, dtype="f8"))
    del a
print(json.dumps({"seconds": sorted(times[1:])[1], "first": times[0], "check": check}))
