import { MeridianError } from "@meridian/io";

/** A reduction that cannot be done as asked: an unknown operator, files that do not make one series, a grid without what an operator needs. */
export class ReduceError extends MeridianError {
  override name = "ReduceError";
}
