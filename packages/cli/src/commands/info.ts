import { open, type Dataset } from "@meridian/io";
import { attrJson, attrText, stringify } from "../format.ts";

export async function info(file: string, options: { json?: boolean }): Promise<void> {
  const ds = await open(file);
  try {
    process.stdout.write(options.json ? stringify(infoJson(ds)) + "\n" : infoText(ds));
  } finally {
    await ds.close();
  }
}

export function infoJson(ds: Dataset) {
  const attrs = (a: Record<string, unknown>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, attrJson(v as never)]));
  return {
    format: ds.format,
    variant: ds.variant,
    dims: ds.dims,
    unlimited: ds.unlimited,
    attrs: attrs(ds.attrs),
    variables: Object.fromEntries(Object.values(ds.variables).map((v) => [v.name, { dims: v.dims, shape: v.shape, dtype: v.dtype, attrs: attrs(v.attrs) }])),
    ...(ds.unsupported.size ? { unsupported: Object.fromEntries(ds.unsupported) } : {}),
  };
}

/** A summary laid out like `ncdump -h`, with numpy type names. */
export function infoText(ds: Dataset): string {
  const lines = [`${ds.format} (${ds.variant}) ${ds.path} {`, "dimensions:"];
  for (const [name, size] of Object.entries(ds.dims)) {
    lines.push(ds.unlimited.includes(name) ? `\t${name} = UNLIMITED ; // (${size} currently)` : `\t${name} = ${size} ;`);
  }
  lines.push("variables:");
  for (const v of Object.values(ds.variables)) {
    lines.push(`\t${v.dtype} ${v.name}${v.dims.length ? `(${v.dims.join(", ")})` : ""} ;`);
    for (const a of v.attributes) lines.push(`\t\t${v.name}:${a.name} = ${attrText(v.attrs[a.name], a.dtype)} ;`);
  }
  for (const [name, why] of ds.unsupported) lines.push(`\t// ${name}: ${why}`);
  if (ds.attributes.length) {
    lines.push("", "// global attributes:");
    for (const a of ds.attributes) lines.push(`\t\t:${a.name} = ${attrText(ds.attrs[a.name], a.dtype)} ;`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
