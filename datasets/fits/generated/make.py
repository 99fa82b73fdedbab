#!/usr/bin/python3
"""Tile-compressed FITS images written by astropy (cfitsio's compression code),
covering what the bundled samples do not: 2-D tiles with partial edge tiles,
GZIP_2, and 8-, 16- and 32-bit integer images. Run with Debian's python3-astropy:

    /usr/bin/python3 datasets/fits/generated/make.py

Deterministic; rewrites the files next to this script."""
import os
import numpy as np
from astropy.io import fits

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)
images = {
    "u8": rng.integers(0, 256, (37, 50)).astype(np.uint8),
    "i16": (rng.normal(0, 3000, (37, 50))).astype(np.int16),
    "i32": (rng.normal(0, 2e8, (37, 50))).astype(np.int32),
}
images["i16"][0, :5] = [-32768, 32767, 0, -1, 1]
images["i32"][0, :5] = [-2**31, 2**31 - 1, 0, -1, 1]
for kind in ("GZIP_1", "GZIP_2", "RICE_1"):
    for name, data in images.items():
        hdu = fits.CompImageHDU(data=data, compression_type=kind, tile_size=(16, 16), name=f"{kind}_{name}")
        out = os.path.join(here, f"tiles-{kind.lower()}-{name}.fits")
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(out, overwrite=True, checksum=False)

# Variable-length array columns (P and Q descriptors), with an empty row and a
# row at the column's maximum, as astropy writes them (TFORM with "(max)").
lengths = [3, 0, 5, 1, 4, 2]
vla = fits.BinTableHDU.from_columns([
    fits.Column(name="counts", format="PJ()", array=[rng.integers(-2**31, 2**31 - 1, n).astype(np.int32) for n in lengths]),
    fits.Column(name="flux", format="PE()", array=[rng.normal(0, 1e3, n).astype(np.float32) for n in lengths]),
    fits.Column(name="wide", format="QD()", array=[rng.normal(0, 1e9, n) for n in lengths]),
    fits.Column(name="bytes", format="PB()", array=[rng.integers(0, 256, n).astype(np.uint8) for n in lengths]),
    fits.Column(name="label", format="PA()", array=["alpha", "", "gamma ray", "d", "epsilon", "zeta"]),
    fits.Column(name="fixed", format="J", array=np.arange(len(lengths), dtype=np.int32)),
], name="VLA")
fits.HDUList([fits.PrimaryHDU(), vla]).writeto(os.path.join(here, "vla.fits"), overwrite=True, checksum=False)

# Header cards the astropy samples lack: HIERARCH keywords (ESO style, and long
# names astropy turns into HIERARCH), a long string continued over CONTINUE
# cards, and a scaled 16-bit image with BLANK.
image = fits.PrimaryHDU(rng.integers(-1000, 1000, (6, 7)).astype(np.int16))
h = image.header
h["HIERARCH ESO DET CHIP TEMP"] = (-120.5, "detector temperature [C]")
h["HIERARCH ESO OBS NAME"] = "a field near M13"
h["HIERARCH ESO TEL AIRM START"] = 1.204
h["HIERARCH LONG KEYWORD WITH FLAG"] = True
h["OBSERVER"] = "A long observer list that goes on beyond the sixty-eight characters of one card, so it continues"
h["BSCALE"] = 0.25
h["BZERO"] = 10.0
h["BLANK"] = -1000
image.data[0, 0] = -1000
fits.HDUList([image]).writeto(os.path.join(here, "cards.fits"), overwrite=True, checksum=False)
