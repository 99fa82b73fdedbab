#!/usr/bin/env python3
"""The peer: netCDF4-python (netCDF-C) reading VAR of FILE in blocks of N records
with its default masking (a masked array per block). Only the reads are timed;
the count of valid values, for the cross-check, is taken in a second, untimed pass.
Prints JSON."""
import json, resource, sys, time
import netCDF4

path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = netCDF4.Dataset(path)
v = ds.variables[name]
start = time.perf_counter()
for i in range(0, v.shape[0], n):
    a = v[i:i + n]
seconds = time.perf_counter() - start
valid = sum(int(v[i:i + n].count()) for i in range(0, v.shape[0], n))
ds.close()
print(json.dumps({"seconds": seconds, "valid": valid, "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
