import { describe, expect, it } from "vitest";

import { DEFAULT_LANGUAGE, createI18n, resources, savedLanguage } from "./i18n";

/** Every leaf key of a nested catalog, as dotted paths. */
function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Codes the Rust side can send (doorstep-core and doorstep-device); each needs a message. */
const BACKEND_CODES = [
  "name_empty",
  "name_too_long",
  "name_chars",
  "id_empty",
  "id_length",
  "id_chars",
  "id_region",
  "id_birth_date",
  "id_checksum",
  "id_duplicate",
  "phone_invalid",
  "emergency_phone_missing",
  "emergency_name_missing",
  "invalid_input",
  "data_dir_unusable",
  "storage_failed",
  "disk_full",
  "schema_too_new",
  "not_found",
  "record_malformed",
  "internal",
  "gender_invalid",
  "gender_disagrees_with_id",
  "text_too_long",
  "text_chars",
  "record_quarantined",
  "invalid_bytes",
  "unknown_kind",
  "no_conflict",
  "not_a_conflict_value",
  "birth_date_disagrees_with_id",
  "database_key_wrong",
  "database_key_missing",
  "keyring_unavailable",
  "not_eligible",
  "service_unknown",
  "application_locked",
  "attachment_empty",
  "attachment_too_large",
  "catalog_invalid",
  "services_empty",
  "date_invalid",
  "date_in_past",
  "date_before_start",
  "period_too_long",
  "signature_missing",
  "wrong_type",
  "number_too_small",
  "number_too_large",
  "choice_invalid",
  "required",
  "attachment_slot_unknown",
  "attachment_not_photo",
  "attachment_not_photo_or_pdf",
  "review_text_required",
  "own_work",
  "date_in_future",
  // The PIN, the lock, and sync (doorstep-device, the app shell, and the server codes a
  // volunteer's device can meet).
  "pin_too_short",
  "pin_too_long",
  "pin_digits_only",
  "pin_not_set",
  "pin_empty",
  "pin_wrong",
  "pin_wait",
  "locked",
  "server_url_invalid",
  "server_unreachable",
  "server_refused",
  "not_enrolled",
  "sync_incomplete",
  "enrollment_unknown",
  "enrollment_expired",
  "enrollment_used",
  "device_revoked",
  "device_unknown",
  "token_missing",
  "token_malformed",
  "token_unknown",
  "storage_unavailable",
  "role_forbidden",
  "committee_forbidden",
  "cross_committee",
  "document_too_large",
  "request_too_large",
  "consent_declined",
  "consent_missing",
  "authorization_missing",
  "consent_not_needed",
  "tts_unavailable",
  "tts_failed",
  "receipt_font_missing",
  "receipt_unwritable",
  "receipt_unopenable",
  // The supervisor's console (doorstep-device's console and roster, the app shell).
  "not_supervisor",
  "device_forbidden",
  "decision_unknown",
  "roster_format",
  "roster_empty",
  "roster_columns",
  "roster_too_large",
  "roster_unreadable",
  "roster_encoding",
  "committee_not_yours",
  "committee_required",
  "export_failed",
  "export_unwritable",
  "export_unopenable",
  "pin_required",
  "id_number_not_text",
  "id_duplicate_in_file",
];

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

  it("every backend error code has a message in both languages", () => {
    for (const code of BACKEND_CODES) {
      expect(resources["zh-CN"].translation.errors).toHaveProperty(code);
      expect(resources.en.translation.errors).toHaveProperty(code);
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
