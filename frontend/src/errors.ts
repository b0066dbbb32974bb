import type { TFunction } from "i18next";

import type { FieldName, UiError } from "./api";

/** Translates an error code; unknown codes still say something useful. */
export function errorText(t: TFunction, code: string): string {
  const key = `errors.${code}`;
  return t(key, { defaultValue: "" }) || t("errors.unknown", { code });
}

/**
 * What a refused PIN says: how many wrong tries, or how long to wait (`seconds`, when
 * the screen counts down itself); any other refusal by its code.
 */
export function pinRefusalText(t: TFunction, e: UiError, seconds?: number): string {
  const waitMs = e.wait_ms ?? 0;
  if (e.code === "pin_wrong" && waitMs === 0) return t("pin.wrong", { count: e.failures ?? 1 });
  if (e.code === "pin_wrong" || e.code === "pin_wait") {
    return t("pin.wait", { seconds: seconds ?? Math.ceil(waitMs / 1000) });
  }
  return errorText(t, e.code);
}

/** Per-field messages of a refused form, first error per field. */
export function fieldMessages(
  t: TFunction,
  error: UiError | null,
): Partial<Record<FieldName, string>> {
  const out: Partial<Record<FieldName, string>> = {};
  for (const f of error?.fields ?? []) {
    if (out[f.field] === undefined) {
      out[f.field] = errorText(t, f.code);
    }
  }
  return out;
}
