import { describe, expect, it } from "vitest";

import { ERROR_CODES } from "./generated/types";
import { DEFAULT_LANGUAGE, createI18n, resources, savedLanguage } from "./i18n";

/** Every leaf key of a nested catalog, as dotted paths. */
function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}


describe("catalogs", () => {
  it("Chinese and English have exactly the same keys (English adds plural forms)", () => {
    // English counts "1 conflict", "2 conflicts" (key_one, key_other); Chinese has one form.
    const base = (k: string) => k.replace(/_(one|other)$/, "");
    const en = [...new Set(keys(resources.en.translation).map(base))].sort();
    expect(en).toEqual(keys(resources["zh-CN"].translation).sort());
  });

  it("no message is empty", () => {
    for (const lang of ["zh-CN", "en"] as const) {
      const catalog = resources[lang].translation as object;
      for (const key of keys(catalog)) {
        const value = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], catalog);
        expect(typeof value === "string" && value.trim(), `${lang}:${key}`).toBeTruthy();
      }
    }
  });

  it("every error code (the closed Rust enum, generated) has a message in both languages", () => {
    expect(ERROR_CODES.length).toBeGreaterThan(100);
    for (const code of ERROR_CODES) {
      expect(resources["zh-CN"].translation.errors, code).toHaveProperty(code);
      expect(resources.en.translation.errors, code).toHaveProperty(code);
    }
  });

  it("has no message for a code the device cannot send", () => {
    // `unknown` is the window's own fallback for a code it has no text for.
    const codes: readonly string[] = [...ERROR_CODES, "unknown"];
    for (const lang of ["zh-CN", "en"] as const) {
      const stale = Object.keys(resources[lang].translation.errors).filter((k) => !codes.includes(k));
      expect(stale, lang).toEqual([]);
    }
  });

  it("interpolates values", async () => {
    const i18n = await createI18n("zh-CN");
    expect(i18n.t("pin.unlockFor", { name: "测试" })).toBe("测试，请输入您的密码。");
  });
});

describe("a missing key", () => {
  it("is noted for the end-to-end tests, not only shown as the key", async () => {
    const i18n = await createI18n("en");
    expect(i18n.t("residentPage.noSuchThing")).toBe("residentPage.noSuchThing");
    expect(window.__doorstepMissingKeys).toContain("residentPage.noSuchThing");
    // A key only the Chinese catalog has falls back to it, and is not missing.
    expect(i18n.t("app.name")).toBe("Doorstep");
    expect(window.__doorstepMissingKeys).not.toContain("app.name");
  });
});

describe("savedLanguage", () => {
  it("defaults to Chinese", () => {
    expect(savedLanguage(undefined)).toBe(DEFAULT_LANGUAGE);
    expect(savedLanguage({ getItem: () => null })).toBe("zh-CN");
  });

  it("ignores a language it does not know", () => {
    expect(savedLanguage({ getItem: () => "fr" })).toBe("zh-CN");
    expect(savedLanguage({ getItem: () => "en" })).toBe("en");
  });
});
