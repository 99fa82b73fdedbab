/**
 * A self-contained HTML report: sections of text, tables and inline SVG
 * plots, with a little CSS; nothing to fetch when it is opened.
 */
export const escapeHTML = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export interface Section {
  title: string;
  /** HTML: build it with paragraph(), table() and figure(). */
  body: string;
}

export const paragraph = (text: string) => `<p>${escapeHTML(text)}</p>`;

/** Numbers right-aligned, with `digits` significant digits. */
export function table(head: string[], rows: (string | number | undefined)[][], digits = 6): string {
  const cell = (v: string | number | undefined) =>
    typeof v === "number" ? `<td class="n">${Number.isFinite(v) ? Number(v.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 20 }) : "–"}</td>` : `<td>${escapeHTML(v ?? "")}</td>`;
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHTML(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("")}</tbody></table>`;
}

export const figure = (svg: string, caption: string) => `<figure>${svg}<figcaption>${escapeHTML(caption)}</figcaption></figure>`;

export function page(title: string, intro: string, sections: Section[]): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHTML(title)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; } th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; overflow-x: auto; } figcaption { color: #555; font-size: 0.9em; }
nav a { margin-right: 1em; }
</style></head>
<body><h1>${escapeHTML(title)}</h1>
${paragraph(intro)}
<nav>${sections.map((s, i) => `<a href="#s${i + 1}">${escapeHTML(s.title)}</a>`).join("")}</nav>
${sections.map((s, i) => `<section id="s${i + 1}"><h2>${escapeHTML(s.title)}</h2>\n${s.body}</section>`).join("\n")}
</body></html>
`;
}
