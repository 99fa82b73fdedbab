/**
 * Plots as files: a Vega-Lite spec rendered headless to SVG by vega (no
 * canvas), and the SVG to PNG by resvg with the system's DejaVu Sans.
 */
import { writeFile } from "node:fs/promises";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type { TopLevelSpec };

export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function pngOf(svg: string, width = 1400): Buffer {
  const png = new Resvg(svg, { fitTo: { mode: "width", value: width }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } });
  return png.render().asPng();
}

/** Writes `${path}.svg` and `${path}.png`; returns the SVG. */
export async function writePlot(path: string, spec: TopLevelSpec): Promise<string> {
  const svg = await svgOf({ config: { font: "DejaVu Sans" }, background: "white", ...spec } as TopLevelSpec);
  await writeFile(`${path}.svg`, svg);
  await writeFile(`${path}.png`, pngOf(svg));
  return svg;
}

/**
 * A sample label as an ISO date-time when it reads as one: US month/day/year
 * with an optional hour:minute (EPA's tables), or ISO already; else undefined.
 */
export function sampleTime(label: string): string | undefined {
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?$/.exec(label.trim());
  const two = (v: string | number) => String(v).padStart(2, "0");
  if (us) return `${us[3]}-${two(us[1])}-${two(us[2])}T${two(us[4] ?? 0)}:${two(us[5] ?? 0)}:00`;
  return /^\d{4}-\d{2}-\d{2}/.test(label.trim()) ? label.trim() : undefined;
}
