#!/usr/bin/python3
"""CMIP5-like inputs for the reduction tests (CDO-style operators), written with
netCDF4-python as netCDF classic (CDF-1). Run from any directory:

    /usr/bin/python3 datasets/netcdf/reduce/make.py

needs Debian's python3-netcdf4 and numpy. Deterministic (numpy default_rng with
fixed seeds, no timestamps in the files): a re-run rewrites byte-identical
files. The fields are synthetic, smooth and realistic-looking near-surface air
temperature, not model output:

    tas = 288 - 40 sin^2(lat) + 3 cos(lat) cos(lon)            (zonal climate)
          - 15 sin(lat) cos(2 pi (f - 0.04))                     (seasonal cycle;
                f = fraction of the year at the time stamp)
          + 0.02 K/year trend + Gaussian noise                   (per member seed)

Every file follows the CMIP5 conventions CMOR2 writes: time (UNLIMITED, double,
units/calendar/axis/bounds = "time_bnds"), time_bnds(time, bnds), lat/lon
(double, bounds lat_bnds/lon_bnds), a scalar `height` = 2 m coordinate
(tas:coordinates = "height"), CMIP5 global attributes (project_id, model_id,
experiment_id, frequency, modeling_realm, table_id, realization, ...), and
tas(time, lat, lon) with standard_name air_temperature, units K,
cell_methods "time: mean", cell_measures "area: areacella",
associated_files naming the areacella file. Time stamps are the middle of
their bounds.

noleap/  model GEN-A, calendar "noleap", monthly, grid A: 12 lat x 24 lon,
         uniform 15-degree cells (lat centres -82.5..82.5, lon 7.5..352.5,
         bounds -90..90 and 0..360). tas float32, _FillValue = missing_value =
         1e20f.
  tas_Amon_GEN-A_historical_r1i1p1_185001-185912.nc   "days since 1850-01-01"
  tas_Amon_GEN-A_historical_r1i1p1_186001-186912.nc   "days since 1860-01-01"
         (the second file has another reference date: a reader must re-base).
         Missing cells of r1i1p1 (index (lat, lon), 0-based):
           (3, 5)   missing at every step;
           (7, 10)  missing in every month of 1855 (a whole year);
           (9, 2)   missing in every January (a whole calendar month);
           (5, 12)  missing in 1859-12 and 1860-01 (a DJF season across the
                    file boundary);
           (0, 0)   and (11, 23): missing at 15 % / 10 % random steps.
  tas_Amon_GEN-A_historical_r2i1p1_*.nc, tas_Amon_GEN-A_historical_r3i1p1_*.nc
         the same layout, other noise; missing: (3, 5) at every step, plus
         r2: (7, 10) in 1859-12..1860-02, r3: (0, 0) at 10 % random steps.
         Members for the ensemble operators (ensmean, ensstd, enspctl).
  areacella_fx_GEN-A_historical_r0i0p0.nc
         areacella(lat, lon) float32 "m2", the exact spherical cell areas
         R^2 * dlon * (sin(lat1) - sin(lat0)), R = 6371000 m (CF 7.2).

360day/  model GEN-B, calendar "360_day", monthly 1850-01..1859-12, grid B:
         13 lat x 24 lon whose first and last rows are half cells (lat centres
         -90, -75, ..., 90; bounds -90,-82.5,-67.5,...,82.5,90), so cos(lat)
         weights (0 at the poles) differ from the exact band areas.
  tas_Amon_GEN-B_historical_r1i1p1_185001-185912.nc   "days since 1850-01-01"
         tas stored packed: int16 with scale_factor 0.002f and add_offset
         270.0f (float32), _FillValue = missing_value = int16 -32767,
         no valid_range. Missing: (6, 4) at every step; (0, 7) (the south
         pole row) in every month of 1852; (12, 0) at 10 % random steps.
  areacella_fx_GEN-B_historical_r0i0p0.nc   exact areas of grid B (float32).

standard/ model GEN-C, calendar "standard", DAILY 1999-01-01..2001-12-31
         (1096 days, includes 2000-02-29), grid C: 6 lat x 12 lon, uniform
         30-degree cells. Time stamps at 12:00, bounds = day edges.
  tas_day_GEN-C_historical_r1i1p1_19990101-20011231.nc  "days since 1999-01-01"
         tas float32, _FillValue = missing_value = 1e20f. Missing: (2, 3) on
         every 29 February (so 2000-02-29 only) and (4, 9) at 5 % random days.
"""
import os

import netCDF4
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
R_EARTH = 6371000.0
FILL32 = np.float32(1e20)
NOLEAP_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


# --------------------------------------------------------------------------
# grids
def grid(lat_edges, lon_edges, lat_centres=None):
    lat_edges = np.asarray(lat_edges, float)
    lon_edges = np.asarray(lon_edges, float)
    lat_b = np.stack([lat_edges[:-1], lat_edges[1:]], axis=1)
    lon_b = np.stack([lon_edges[:-1], lon_edges[1:]], axis=1)
    lat = lat_b.mean(axis=1) if lat_centres is None else np.asarray(lat_centres, float)
    lon = lon_b.mean(axis=1)
    return lat, lat_b, lon, lon_b


def exact_area(lat_b, lon_b):
    s = np.sin(np.deg2rad(lat_b))
    dlon = np.deg2rad(lon_b[:, 1] - lon_b[:, 0])
    return R_EARTH ** 2 * np.outer(s[:, 1] - s[:, 0], dlon)


GRID_A = grid(np.arange(-90, 91, 15), np.arange(0, 361, 15))
GRID_B = grid([-90] + list(np.arange(-82.5, 83, 15)) + [90], np.arange(0, 361, 15),
              lat_centres=np.arange(-90, 91, 15))
GRID_C = grid(np.arange(-90, 91, 30), np.arange(0, 361, 30))


# --------------------------------------------------------------------------
# field
def field(lat, lon, year, frac, rng, noise):
    """tas(t, lat, lon) in float64 for time stamps given by calendar year and
    fraction of the year."""
    phi = np.deg2rad(lat)[None, :, None]
    lam = np.deg2rad(lon)[None, None, :]
    f = np.asarray(frac, float)[:, None, None]
    y = np.asarray(year, float)[:, None, None]
    t = (288.0 - 40.0 * np.sin(phi) ** 2 + 3.0 * np.cos(phi) * np.cos(lam)
         - 15.0 * np.sin(phi) * np.cos(2 * np.pi * (f - 0.04))
         + 0.02 * (y - 1850.0))
    return t + rng.normal(0.0, noise, t.shape)


# --------------------------------------------------------------------------
# CMIP5-like writing
def global_attrs(model, experiment, rip, frequency, table, calendar_note, extra=None):
    r, i, p = (int(x) for x in rip[1:].replace("i", " ").replace("p", " ").split())
    attrs = {
        "institution": "meridian test data (synthetic)",
        "institute_id": "GEN",
        "experiment_id": experiment,
        "source": f"{model}: synthetic fields made by datasets/netcdf/reduce/make.py",
        "model_id": model,
        "forcing": "N/A",
        "parent_experiment_id": "N/A",
        "parent_experiment_rip": "N/A",
        "branch_time": 0.0,
        "contact": "meridian maintainers",
        "history": "made by datasets/netcdf/reduce/make.py (netCDF4-python, numpy, fixed seeds)",
        "comment": f"Synthetic test data, not model output. {calendar_note}",
        "initialization_method": np.int32(i),
        "physics_version": np.int32(p),
        "tracking_id": f"00000000-0000-0000-0000-{abs(hash_str(model + rip + frequency)):012d}",
        "product": "output",
        "experiment": "historical",
        "frequency": frequency,
        "creation_date": "2026-01-01T00:00:00Z",
        "Conventions": "CF-1.4",
        "project_id": "CMIP5",
        "table_id": f"Table {table} (synthetic)",
        "title": f"{model} model output prepared for CMIP5 {experiment} (synthetic)",
        "parent_experiment": "N/A",
        "modeling_realm": "atmos",
        "realization": np.int32(r),
    }
    if extra:
        attrs.update(extra)
    return attrs


def hash_str(s):
    """A small stable hash (Python's hash() is salted per process)."""
    h = 0
    for ch in s.encode():
        h = (h * 131 + ch) % 10 ** 12
    return h


def write_coords(nc, lat, lat_b, lon, lon_b):
    nc.createDimension("lat", len(lat))
    nc.createDimension("lon", len(lon))
    if "bnds" not in nc.dimensions:
        nc.createDimension("bnds", 2)
    v = nc.createVariable("lat", "f8", ("lat",))
    v.setncatts({"bounds": "lat_bnds", "units": "degrees_north", "axis": "Y",
                 "long_name": "latitude", "standard_name": "latitude"})
    v[:] = lat
    nc.createVariable("lat_bnds", "f8", ("lat", "bnds"))[:] = lat_b
    v = nc.createVariable("lon", "f8", ("lon",))
    v.setncatts({"bounds": "lon_bnds", "units": "degrees_east", "axis": "X",
                 "long_name": "longitude", "standard_name": "longitude"})
    v[:] = lon
    nc.createVariable("lon_bnds", "f8", ("lon", "bnds"))[:] = lon_b


def write_tas(path, attrs, g, time, time_b, units, calendar, data, mask, packed=None,
              areafile=None):
    """data float64 (t, lat, lon); mask True = missing. packed = (scale, offset)
    -> int16 storage."""
    lat, lat_b, lon, lon_b = g
    if os.path.exists(path):
        os.remove(path)
    nc = netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC")
    a = dict(attrs)
    if areafile:
        a["associated_files"] = ("baseURL: http://cmip-pcmdi.llnl.gov/CMIP5/dataLocation "
                                 f"areacella: {areafile}")
    nc.setncatts(a)
    nc.createDimension("time", None)
    write_coords(nc, lat, lat_b, lon, lon_b)
    v = nc.createVariable("time", "f8", ("time",))
    v.setncatts({"bounds": "time_bnds", "units": units, "calendar": calendar, "axis": "T",
                 "long_name": "time", "standard_name": "time"})
    v[:] = time
    nc.createVariable("time_bnds", "f8", ("time", "bnds"))[:] = time_b
    v = nc.createVariable("height", "f8", ())
    v.setncatts({"units": "m", "axis": "Z", "positive": "up", "long_name": "height",
                 "standard_name": "height"})
    v.assignValue(2.0)
    common = {"standard_name": "air_temperature", "long_name": "Near-Surface Air Temperature",
              "units": "K", "original_name": "T2", "cell_methods": "time: mean",
              "cell_measures": "area: areacella", "coordinates": "height"}
    if packed is None:
        v = nc.createVariable("tas", "f4", ("time", "lat", "lon"), fill_value=FILL32)
        v.setncatts(common)
        v.missing_value = FILL32
        raw = data.astype(np.float32)
        raw[mask] = FILL32
    else:
        scale, offset = (np.float32(x) for x in packed)
        fill = np.int16(-32767)
        v = nc.createVariable("tas", "i2", ("time", "lat", "lon"), fill_value=fill)
        v.setncatts(common)
        v.missing_value = fill
        v.scale_factor = scale
        v.add_offset = offset
        raw = np.round((data - np.float64(offset)) / np.float64(scale)).astype(np.int16)
        raw[mask] = fill
    v.set_auto_maskandscale(False)
    v[:] = raw
    nc.close()


def write_areacella(path, attrs, g):
    lat, lat_b, lon, lon_b = g
    if os.path.exists(path):
        os.remove(path)
    nc = netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC")
    nc.setncatts(attrs)
    write_coords(nc, lat, lat_b, lon, lon_b)
    v = nc.createVariable("areacella", "f4", ("lat", "lon"), fill_value=FILL32)
    v.setncatts({"standard_name": "cell_area", "long_name": "Atmosphere Grid-Cell Area",
                 "units": "m2", "original_name": "exact: R^2 dlon (sin lat1 - sin lat0), R = 6371000 m"})
    v.missing_value = FILL32
    v[:] = exact_area(lat_b, lon_b).astype(np.float32)
    nc.close()


# --------------------------------------------------------------------------
# monthly noleap, GEN-A
def noleap_months(y0, y1):
    """(bounds in days since y0-01-01, year, fraction of year at mid-month)"""
    b, years, frac = [], [], []
    d = 0.0
    for y in range(y0, y1 + 1):
        doy = 0
        for n in NOLEAP_MONTH:
            b.append((d, d + n))
            years.append(y)
            frac.append((doy + n / 2) / 365.0)
            d += n
            doy += n
    return np.array(b), np.array(years), np.array(frac)


def make_noleap():
    out = os.path.join(HERE, "noleap")
    os.makedirs(out, exist_ok=True)
    g = GRID_A
    b, years, frac = noleap_months(1850, 1869)
    nt = len(years)
    months = np.tile(np.arange(1, 13), 20)
    area_name = "areacella_fx_GEN-A_historical_r0i0p0.nc"
    for k, rip in enumerate(["r1i1p1", "r2i1p1", "r3i1p1"]):
        rng = np.random.default_rng([2026, 1, k])
        data = field(g[0], g[2], years, frac, rng, 0.6)
        mask = np.zeros(data.shape, bool)
        mask[:, 3, 5] = True
        if rip == "r1i1p1":
            mask[years == 1855, 7, 10] = True
            mask[months == 1, 9, 2] = True
            mask[((years == 1859) & (months == 12)) | ((years == 1860) & (months == 1)), 5, 12] = True
            mask[:, 0, 0] = rng.random(nt) < 0.15
            mask[:, 11, 23] = rng.random(nt) < 0.10
        elif rip == "r2i1p1":
            mask[((years == 1859) & (months == 12)) | ((years == 1860) & (months <= 2)), 7, 10] = True
        else:
            mask[:, 0, 0] = rng.random(nt) < 0.10
        attrs = global_attrs("GEN-A", "historical", rip, "mon", "Amon",
                             "Calendar noleap; the two files of a member use different reference dates.")
        for y0, y1 in [(1850, 1859), (1860, 1869)]:
            sel = (years >= y0) & (years <= y1)
            off = 365.0 * (y0 - 1850)
            tb = b[sel] - off
            write_tas(os.path.join(out, f"tas_Amon_GEN-A_historical_{rip}_{y0}01-{y1}12.nc"),
                      attrs, g, tb.mean(axis=1), tb, f"days since {y0}-01-01", "noleap",
                      data[sel], mask[sel], areafile=area_name)
    write_areacella(os.path.join(out, area_name),
                    global_attrs("GEN-A", "historical", "r0i0p0", "fx", "fx", "Exact cell areas."), g)


# --------------------------------------------------------------------------
# monthly 360_day, packed int16, GEN-B
def make_360day():
    out = os.path.join(HERE, "360day")
    os.makedirs(out, exist_ok=True)
    g = GRID_B
    nt = 120
    k = np.arange(nt)
    b = np.stack([k * 30.0, k * 30.0 + 30.0], axis=1)
    years = 1850 + k // 12
    frac = ((k % 12) * 30 + 15) / 360.0
    rng = np.random.default_rng([2026, 2])
    data = field(g[0], g[2], years, frac, rng, 0.6)
    mask = np.zeros(data.shape, bool)
    mask[:, 6, 4] = True
    mask[years == 1852, 0, 7] = True
    mask[:, 12, 0] = rng.random(nt) < 0.10
    area_name = "areacella_fx_GEN-B_historical_r0i0p0.nc"
    attrs = global_attrs("GEN-B", "historical", "r1i1p1", "mon", "Amon",
                         "Calendar 360_day; tas packed as int16; polar rows are half cells.")
    write_tas(os.path.join(out, "tas_Amon_GEN-B_historical_r1i1p1_185001-185912.nc"),
              attrs, g, b.mean(axis=1), b, "days since 1850-01-01", "360_day",
              data, mask, packed=(0.002, 270.0), areafile=area_name)
    write_areacella(os.path.join(out, area_name),
                    global_attrs("GEN-B", "historical", "r0i0p0", "fx", "fx", "Exact cell areas."), g)


# --------------------------------------------------------------------------
# daily standard, GEN-C
def make_standard():
    out = os.path.join(HERE, "standard")
    os.makedirs(out, exist_ok=True)
    g = GRID_C
    start = np.datetime64("1999-01-01")
    days = np.arange(np.datetime64("1999-01-01"), np.datetime64("2002-01-01"))
    d = (days - start).astype(int).astype(float)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    ylen = np.where(years == 2000, 366.0, 365.0)
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    frac = (doy + 0.5) / ylen
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    rng = np.random.default_rng([2026, 3])
    data = field(g[0], g[2], years, frac, rng, 2.0)
    mask = np.zeros(data.shape, bool)
    mask[(month == 2) & (dom == 29), 2, 3] = True
    mask[:, 4, 9] = rng.random(len(d)) < 0.05
    attrs = global_attrs("GEN-C", "historical", "r1i1p1", "day", "day",
                         "Calendar standard, daily, includes 2000-02-29.")
    write_tas(os.path.join(out, "tas_day_GEN-C_historical_r1i1p1_19990101-20011231.nc"),
              attrs, g, d + 0.5, np.stack([d, d + 1], axis=1), "days since 1999-01-01",
              "standard", data, mask)


if __name__ == "__main__":
    make_noleap()
    make_360day()
    make_standard()
