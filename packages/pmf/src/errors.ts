import { MeridianError } from "@meridian/io";

/** PMF input or settings that cannot be used: a malformed table, tables that do not match, an impossible factor count. */
export class PmfError extends MeridianError {
  override name = "PmfError";
}
