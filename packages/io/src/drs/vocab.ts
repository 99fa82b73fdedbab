/**
 * Controlled vocabularies of the CMIP5 and CMIP6 Data Reference Syntax (facts
 * and sources in notes/drs-cf-and-climate-peers.md §1.3, §1.5): what each facet
 * may hold, and what a MIP table says about frequency and realm.
 */

export const CMIP5_FREQUENCIES = ["yr", "mon", "day", "6hr", "3hr", "subhr", "monClim", "fx"];
export const CMIP6_FREQUENCIES = ["1hr", "1hrCM", "1hrPt", "3hr", "3hrPt", "6hr", "6hrPt", "day", "dec", "fx", "mon", "monC", "monPt", "subhrPt", "yr", "yrPt"];
export const CMIP5_REALMS = ["atmos", "ocean", "land", "landIce", "seaIce", "aerosol", "atmosChem", "ocnBgchem"];
export const CMIP5_PRODUCTS = ["output", "output1", "output2", "restricted"];

/** CMIP5 MIP tables (PCMDI cmip5-cmor-tables), with the frequency and realm each fixes (realm undefined where the table spans several). */
export const CMIP5_TABLES: Record<string, { frequency: string; realm?: string }> = {
  "3hr": { frequency: "3hr" }, "6hrLev": { frequency: "6hr", realm: "atmos" }, "6hrPlev": { frequency: "6hr", realm: "atmos" },
  Amon: { frequency: "mon", realm: "atmos" }, LImon: { frequency: "mon", realm: "landIce" }, Lmon: { frequency: "mon", realm: "land" },
  OImon: { frequency: "mon", realm: "seaIce" }, Oclim: { frequency: "monClim", realm: "ocean" }, Omon: { frequency: "mon" },
  Oyr: { frequency: "yr" }, aero: { frequency: "mon", realm: "aerosol" }, cf3hr: { frequency: "3hr", realm: "atmos" },
  cfDay: { frequency: "day", realm: "atmos" }, cfMon: { frequency: "mon", realm: "atmos" }, cfOff: { frequency: "mon", realm: "atmos" },
  cfSites: { frequency: "subhr", realm: "atmos" }, day: { frequency: "day" }, fx: { frequency: "fx" },
};

/** Characters a DRS component may hold (`_` and `.` separate components). */
export const COMPONENT = /^[A-Za-z0-9-]+$/;
/** CMIP5 ensemble member rNiNpN (r0i0p0 for fixed fields); legacy rN is accepted too. */
export const CMIP5_ENSEMBLE = /^r\d+(i\d+p\d+)?$/;
/** CMIP6 member_id: [sub_experiment_id-]rNiNpNfN, e.g. s1960-r2i1p1f3. */
export const CMIP6_MEMBER = /^(?:(s\d{4}|none)-)?r\d+i\d+p\d+f\d+$/;
export const VERSION = /^v\d+$/;
export const GRID_LABEL = /^g[a-z0-9]+$/;

/** The digits of a time label that a frequency implies (CMIP6 doc Table 2; the same rule in CMIP5). */
export function timePrecision(frequency: string): number[] | undefined {
  const f = frequency.replace(/Pt$|CM$|C$|Clim$/, "");
  if (f === "fx") return undefined;
  if (f === "yr" || f === "dec") return [4];
  if (f === "mon") return [6];
  if (f === "day") return [8];
  if (f === "6hr" || f === "3hr" || f === "1hr") return [10, 12];
  if (f === "subhr") return [12, 14];
  return [4, 6, 8, 10, 12, 14];
}
