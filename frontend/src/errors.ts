import type { TFunction } from "i18next";

import type { FieldName, UiError } from "./api";

/** Translates an error code; unknown codes still say something useful. */
export function errorText(t: TFunction, code: string): string {
  const key = `errors.${code}`;
  return t(key, { defaultValue: "" }) || t("errors.unknown", { code });
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
