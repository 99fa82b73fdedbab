#!/usr/bin/env python3
"""Benchmark inputs for the NetCDF-4 and FITS readers, written by the peer
tools themselves: a NetCDF-4 float32 variable with shuffle + deflate (level 4),
about 110 MB decoded (netCDF4-python); a 100 MB float32 FITS image and a RICE_1
tile-compressed 16-bit image of 4000 x 4000 (astropy). Usage: make-formats.py DIR"""
import os
import sys
import numpy as np
import netCDF4
from astropy.io import fits

out = sys.argv[1]
rng = np.random.default_rng(3)
nc = os.path.join(out, "tas-nc4-deflate.nc")
if not os.path.exists(nc):
    ds = netCDF4.Dataset(nc, "w", format="NETCDF4")
    ds.createDimension("time", None)
    ds.createDimension("lat", 192)
    ds.createDimension("lon", 480)
    v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True, chunksizes=(1, 192, 480), fill_value=np.float32(1e20))
    field = 250 + 30 * np.cos(np.linspace(-1.5, 1.5, 192))[:, None] + np.zeros((192, 480))
    for i in range(0, 300, 25):
        v[i:i + 25] = (field + rng.normal(0, 2, (25, 192, 480))).astype("f4")
    ds.close()
img = os.path.join(out, "image-f32.fits")
if not os.path.exists(img):
    fits.PrimaryHDU((rng.normal(1000, 50, (5000, 5000))).astype(">f4")).writeto(img)
rice = os.path.join(out, "image-rice.fits")
if not os.path.exists(rice):
    data = (rng.normal(1000, 30, (4000, 4000))).astype(np.int16)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1")]).writeto(rice)
