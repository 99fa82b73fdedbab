#!/usr/bin/env python3
"""The peers opening a file and reading a whole variable into memory:
netCDF4-python (masked array) for NetCDF-4, astropy for FITS (no memory map,
so the data are read). As in read-formats.ts, the library is imported and a
small file of the same format opened first. Usage: read-formats.py KIND FILE
WARMUP-FILE. Prints JSON: seconds and a checksum."""
import json, sys, time
import numpy as np
import netCDF4
from astropy.io import fits

kind, path, warmup = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "netcdf4":
    netCDF4.Dataset(warmup).close()
else:
    fits.open(warmup, memmap=False).close()
start = time.perf_counter()
if kind == "netcdf4":
    ds = netCDF4.Dataset(path)
    a = ds["tas"][:]
    seconds = time.perf_counter() - start
    check = float(np.ma.sum(a, dtype="f8"))
else:
    with fits.open(path, memmap=False) as h:
        a = h[1 if kind == "rice" else 0].data
        seconds = time.perf_counter() - start
        check = float(np.sum(a, dtype="f8"))
print(json.dumps({"seconds": seconds, "check": check}))
