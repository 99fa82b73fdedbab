#!/usr/bin/env python3
"""Writes the benchmark input: a CDF-2 (64-bit offset) file with a float32
record variable tas(time, lat, lon) of about 405 MB, as CMIP files are laid out
(time is a record variable too, so records interleave), with _FillValue 1e20 on
about 1% of the values. Usage: make-big-cdf2.py OUT.nc [NTIME]"""
import sys
import numpy as np
import netCDF4

out = sys.argv[1]
ntime = int(sys.argv[2]) if len(sys.argv) > 2 else 1100
nlat, nlon = 192, 480
ds = netCDF4.Dataset(out, "w", format="NETCDF3_64BIT_OFFSET")
ds.createDimension("time", None)
ds.createDimension("lat", nlat)
ds.createDimension("lon", nlon)
t = ds.createVariable("time", "f8", ("time",))
t.units = "days since 1850-01-01"
t.calendar = "noleap"
lat = ds.createVariable("lat", "f8", ("lat",))
lat[:] = np.linspace(-89.5, 89.5, nlat)
lon = ds.createVariable("lon", "f8", ("lon",))
lon[:] = np.linspace(0, 359.25, nlon)
tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"), fill_value=np.float32(1e20))
tas.units = "K"
tas.missing_value = np.float32(1e20)
rng = np.random.default_rng(1)
for i in range(0, ntime, 50):
    n = min(50, ntime - i)
    block = (250 + 40 * rng.random((n, nlat, nlon))).astype("f4")
    block[rng.random((n, nlat, nlon)) < 0.01] = np.float32(1e20)
    tas[i:i + n] = block
    t[i:i + n] = np.arange(i, i + n) * 30.0 + 15
ds.close()
