// Every translation key the components name literally exists in both catalogs: a key
// missing from a catalog shows on screen as the key itself ("resident.edit").
import { describe, expect, it } from "vitest";

import { resources } from "./i18n";
import enText from "./locales/en.json?raw";
import zhText from "./locales/zh-CN.json?raw";

/** Every source file that shows text, as text (test files excluded). */
const SOURCES = import.meta.glob<string>(["./components/*.tsx", "./logic.ts", "./errors.ts", "!./**/*.test.*"], {
  query: "?raw",
  import: "default",
  eager: true,
});

function has(catalog: object, key: string): boolean {
  let node: unknown = catalog;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string";
}

/** Literal keys in `t("…")` calls (and `i18nKey="…"`) of every source file. */
function literalKeys(): { file: string; key: string }[] {
  const out: { file: string; key: string }[] = [];
  for (const [file, source] of Object.entries(SOURCES)) {
    for (const m of source.matchAll(/\bt\(\s*"([^"$`{}]+)"/g)) out.push({ file, key: m[1] ?? "" });
  }
  return out;
}

/** Keys written twice in one object of a JSON text (JSON.parse keeps only the last). */
function duplicateKeys(text: string): string[] {
  const stack: Set<string>[] = [];
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"(\s*:)?|[{}[\]]/g;
  for (const m of text.matchAll(re)) {
    if (m[0] === "{") stack.push(new Set());
    else if (m[0] === "}") stack.pop();
    else if (m[2] !== undefined) {
      const seen = stack[stack.length - 1];
      const key = m[1] ?? "";
      if (seen?.has(key)) out.push(key);
      seen?.add(key);
    }
  }
  return out;
}

describe("the catalogs", () => {
  it("write no key twice in one object (the first would be lost silently)", () => {
    for (const text of [zhText, enText]) expect(duplicateKeys(text)).toEqual([]);
    expect(duplicateKeys('{"a": {"b": 1, "b": 2}}')).toEqual(["b"]);
  });

  it("hold every key the screens ask for, in both languages", () => {
    const keys = literalKeys();
    expect(keys.length).toBeGreaterThan(200);
    const missing = keys.flatMap(({ file, key }) =>
      (["zh-CN", "en"] as const)
        // A count's key may exist only in its plural forms (English "key_one", "key_other").
        .filter((lang) => !has(resources[lang].translation, key) && !has(resources[lang].translation, `${key}_other`))
        .map((lang) => `${lang}: ${key} (${file.split("/").pop()})`),
    );
    expect(missing).toEqual([]);
  });
});
