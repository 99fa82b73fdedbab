#!/usr/bin/env python3
"""The peer: netCDF4-python (netCDF-C) reading VAR of FILE in blocks of N records,
with its default masking (a masked array per block). Prints JSON timings."""
import json, resource, sys, time
import netCDF4

path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = netCDF4.Dataset(path)
v = ds.variables[name]
start = time.perf_counter()
valid = 0
for i in range(0, v.shape[0], n):
    a = v[i:i + n]
    valid += a.count()  # as the reader below counts valid values: touches the mask once
seconds = time.perf_counter() - start
ds.close()
print(json.dumps({"seconds": seconds, "valid": int(valid), "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
