/**
 * FITS headers (FITS Standard 4.0, §3–4): 2880-byte blocks of 80-character
 * cards ending with END. Values are typed as the standard says (logical,
 * integer, float with E or D exponent, complex, quoted string with '' escapes,
 * or undefined; any other text is kept as a string, as astropy repairs it);
 * CONTINUE cards extend a string ending in "&"; HIERARCH cards
 * carry long keywords. Every HDU is located from its header alone, so a file is
 * mapped without reading any data.
 */
import type { NumericDType } from "../../dtype.ts";
import { FormatError } from "../../errors.ts";
import type { ByteSource } from "../../source.ts";

export const BLOCK = 2880;
const CARD = 80;
/** No real header comes close; a header without END before this is refused. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** A card's value: null when the keyword has no value (astropy's Undefined), [re, im] for complex. */
export type CardValue = string | number | bigint | boolean | [number, number] | null;

/** What the value was written as (astropy's value types). */
export type CardKind = "str" | "bool" | "int" | "float" | "complex" | "undefined" | "commentary";

export interface Card {
  keyword: string;
  value: CardValue;
  comment: string;
  kind: CardKind;
  /** COMMENT, HISTORY, blank and other cards without "= ": their value is free text. */
  commentary: boolean;
}

export interface Hdu {
  index: number;
  /** EXTNAME, else PRIMARY for the first HDU, else HDU<n>. */
  name: string;
  xtension: string | null;
  headerOffset: number;
  dataOffset: number;
  /** Bytes of data, padded to whole blocks (as astropy's fileinfo() datSpan). */
  dataSpan: number;
  cards: Card[];
}

/** The dtype of each BITPIX (and ZBITPIX) value. */
export const BITPIX_DTYPE: Record<string, NumericDType> = { "8": "uint8", "16": "int16", "32": "int32", "64": "int64", "-32": "float32", "-64": "float64" };

/** A numeric card's value, or `dflt` when the card is absent or not a number. */
export function cardNumber(cards: readonly Card[], keyword: string, dflt: number): number {
  const v = cardValue(cards, keyword);
  return typeof v === "number" ? v : dflt;
}

/** The value of the first card with this keyword. */
export function cardValue(cards: readonly Card[], keyword: string): CardValue | undefined {
  return cards.find((c) => c.keyword === keyword && !c.commentary)?.value;
}

/** Parses the cards of one header (the bytes up to and including the END card's block). */
export function parseCards(bytes: Uint8Array, file: string, offset: number): Card[] {
  const cards: Card[] = [];
  for (let at = 0; at + CARD <= bytes.length; at += CARD) {
    const text = latin1(bytes.subarray(at, at + CARD));
    const keyword = text.slice(0, 8).trimEnd();
    if (keyword === "END" && text.slice(8).trim() === "") return cards;
    const card = parseCard(text, file, offset + at);
    const prev = cards[cards.length - 1];
    if (card.keyword === "CONTINUE" && card.commentary && prev && typeof prev.value === "string" && prev.value.endsWith("&")) {
      // Long-string convention: the previous string goes on, without its "&".
      const more = parseValue(text.slice(8), file, offset + at);
      if (typeof more.value === "string") {
        prev.value = prev.value.slice(0, -1) + more.value;
        if (more.comment) prev.comment = prev.comment ? `${prev.comment} ${more.comment}` : more.comment;
        continue;
      }
    }
    cards.push(card);
  }
  throw new FormatError(file, offset + bytes.length, "header has no END card");
}

function parseCard(text: string, file: string, at: number): Card {
  const keyword = text.slice(0, 8).trimEnd();
  if (keyword === "HIERARCH") {
    const eq = text.indexOf("=", 8);
    if (eq > 0) {
      const { value, comment, kind } = parseValue(text.slice(eq + 1), file, at + eq + 1);
      return { keyword: text.slice(9, eq).trim(), value, comment, kind, commentary: false };
    }
  }
  if (text.slice(8, 10) !== "= " || keyword === "COMMENT" || keyword === "HISTORY" || keyword === "") {
    return { keyword, value: text.slice(8).trimEnd(), comment: "", kind: "commentary", commentary: true };
  }
  const { value, comment, kind } = parseValue(text.slice(10), file, at + 10);
  return { keyword, value, comment, kind, commentary: false };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([ED][+-]?\d+)?$/i;

/** Parses a value field: the value, then an optional "/ comment". */
function parseValue(field: string, file: string, at: number): { value: CardValue; comment: string; kind: CardKind } {
  const s = field.trimStart();
  const lead = field.length - s.length;
  if (s.startsWith("'")) {
    let i = 1, out = "";
    for (;;) {
      const q = s.indexOf("'", i);
      if (q < 0) throw new FormatError(file, at + lead, `unterminated string value in card "${field.trim()}"`);
      out += s.slice(i, q);
      if (s[q + 1] === "'") { out += "'"; i = q + 2; continue; }
      i = q + 1;
      break;
    }
    return { value: out.trimEnd(), comment: commentOf(s.slice(i)), kind: "str" };
  }
  const slash = s.indexOf("/");
  const raw = (slash < 0 ? s : s.slice(0, slash)).trim();
  const comment = slash < 0 ? "" : s.slice(slash + 1).trim();
  const number = (t: string) => Number(t.replace(/d/i, "E"));
  if (raw === "") return { value: null, comment, kind: "undefined" };
  if (raw === "T" || raw === "F") return { value: raw === "T", comment, kind: "bool" };
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    return { value: Number.isSafeInteger(n) ? n : BigInt(raw), comment, kind: "int" };
  }
  if (NUMBER.test(raw)) return { value: number(raw), comment, kind: "float" };
  const complex = /^\(\s*([^,]+?)\s*,\s*([^)]+?)\s*\)$/.exec(raw);
  if (complex && NUMBER.test(complex[1]) && NUMBER.test(complex[2])) return { value: [number(complex[1]), number(complex[2])], comment, kind: "complex" };
  // Not a standard value (e.g. an unquoted list "1.0, 2.0"): kept as its text, as astropy's fix does.
  return { value: raw, comment, kind: "str" };
}

const commentOf = (rest: string) => {
  const slash = rest.indexOf("/");
  return slash < 0 ? "" : rest.slice(slash + 1).trim();
};

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");

/** Reads one header starting at `offset`, block by block until END. */
async function readHeader(source: ByteSource, offset: number): Promise<{ cards: Card[]; end: number }> {
  const blocks: Uint8Array[] = [];
  for (let at = offset; ; at += BLOCK) {
    if (at - offset >= MAX_HEADER_BYTES) throw new FormatError(source.name, offset, `header has no END card in its first ${MAX_HEADER_BYTES} bytes`);
    if (at + BLOCK > source.size) throw new FormatError(source.name, at, `file is truncated: expected a ${BLOCK}-byte header block here but the file ends at byte ${source.size}`);
    const block = await source.read(at, BLOCK);
    blocks.push(block);
    if (hasEnd(block)) {
      const all = Buffer.concat(blocks);
      return { cards: parseCards(all, source.name, offset), end: at + BLOCK };
    }
  }
}

const hasEnd = (block: Uint8Array) => {
  for (let at = 0; at < BLOCK; at += CARD) {
    if (block[at] === 0x45 && block[at + 1] === 0x4e && block[at + 2] === 0x44 && latin1(block.subarray(at + 3, at + CARD)).trim() === "") return true;
  }
  return false;
};

/** Bytes of an HDU's data (§4.4.1.1 and §7): |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn). */
function dataBytes(cards: Card[], file: string, at: number): number {
  const int = (k: string, dflt?: number) => {
    const v = cardValue(cards, k);
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 && k !== "BITPIX") throw new FormatError(file, at, `header keyword ${k} must be ${k === "BITPIX" ? "an integer" : "a non-negative integer"}, found ${String(v)}`);
    return v;
  };
  const bitpix = int("BITPIX");
  if (![8, 16, 32, 64, -32, -64].includes(bitpix)) throw new FormatError(file, at, `BITPIX must be 8, 16, 32, 64, -32 or -64, found ${bitpix}`);
  const naxis = int("NAXIS");
  if (naxis > 999) throw new FormatError(file, at, `NAXIS must be at most 999, found ${naxis}`);
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= int(`NAXIS${i}`);
  const bytes = (Math.abs(bitpix) / 8) * int("GCOUNT", 1) * (int("PCOUNT", 0) + n);
  if (!Number.isSafeInteger(bytes)) throw new FormatError(file, at, "the data size in the header overflows");
  return bytes;
}

/** Locates every HDU of a FITS file by reading its headers only. */
export async function readHdus(source: ByteSource): Promise<Hdu[]> {
  const hdus: Hdu[] = [];
  let offset = 0;
  while (offset < source.size) {
    const index = hdus.length;
    const { cards, end } = await readHeader(source, offset);
    const first = cards[0]?.keyword;
    if (index === 0 ? first !== "SIMPLE" : first !== "XTENSION") {
      if (index > 0 && (source.size - offset) < BLOCK) break; // trailing padding after the last HDU
      throw new FormatError(source.name, offset, `expected a header starting with ${index === 0 ? "SIMPLE" : "XTENSION"}, found ${first ?? "nothing"}`);
    }
    const span = Math.ceil(dataBytes(cards, source.name, offset) / BLOCK) * BLOCK;
    if (end + span > source.size) {
      throw new FormatError(source.name, end, `file is truncated: HDU ${index} needs ${span} bytes of data but the file ends at byte ${source.size}`);
    }
    const extname = cardValue(cards, "EXTNAME");
    const xtension = cardValue(cards, "XTENSION");
    hdus.push({
      index,
      name: typeof extname === "string" && extname.trim() ? extname.trim() : index === 0 ? "PRIMARY" : `HDU${index}`,
      xtension: typeof xtension === "string" ? xtension.trim() : null,
      headerOffset: offset,
      dataOffset: end,
      dataSpan: span,
      cards,
    });
    offset = end + span;
  }
  return hdus;
}
