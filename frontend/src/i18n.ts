import i18next, { type i18n } from "i18next";
import { initReactI18next } from "react-i18next";

import en from "./locales/en.json";
import zhCN from "./locales/zh-CN.json";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = "zh-CN";
const STORAGE_KEY = "doorstep.language";

export const resources = {
  "zh-CN": { translation: zhCN },
  en: { translation: en },
} as const;

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/** The language chosen earlier on this device, or Chinese. */
export function savedLanguage(storage: Pick<Storage, "getItem"> | undefined): Language {
  const value = storage?.getItem(STORAGE_KEY);
  return isLanguage(value) ? value : DEFAULT_LANGUAGE;
}

export function saveLanguage(storage: Pick<Storage, "setItem"> | undefined, lang: Language): void {
  storage?.setItem(STORAGE_KEY, lang);
}

declare global {
  interface Window {
    /** Translation keys the screens asked for and no catalog holds. */
    __doorstepMissingKeys?: string[];
  }
}

function noteMissingKey(key: string): void {
  if (typeof window === "undefined") return;
  const seen = (window.__doorstepMissingKeys ??= []);
  if (!seen.includes(key)) seen.push(key);
}

/** A fresh i18next instance with both catalogs; Chinese first, English as fallback. */
export async function createI18n(lang: Language): Promise<i18n> {
  const instance = i18next.createInstance();
  await instance.use(initReactI18next).init({
    resources,
    lng: lang,
    fallbackLng: DEFAULT_LANGUAGE,
    interpolation: { escapeValue: false },
    returnNull: false,
    showSupportNotice: false,
    // A key neither catalog holds is noted where the end-to-end tests read it: a
    // screen showing "resident.edit" fails them.
    saveMissing: true,
    missingKeyHandler: (_lngs, _ns, key) => noteMissingKey(key),
  });
  return instance;
}
