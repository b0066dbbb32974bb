import { useTranslation } from "react-i18next";

import { LANGUAGES, type Language, isLanguage, saveLanguage } from "../i18n";

const LABELS: Record<Language, string> = { "zh-CN": "中文", en: "English" };

/** Two buttons, 中文 / English; the choice is remembered on this device. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const choose = (lang: Language) => {
    void i18n.changeLanguage(lang);
    document.documentElement.lang = lang;
    saveLanguage(window.localStorage, lang);
  };
  const current = isLanguage(i18n.language) ? i18n.language : "zh-CN";
  return (
    <div className="language-switch" role="group" aria-label={t("app.language")}>
      {LANGUAGES.map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          id={`lang-${lang}`}
          aria-pressed={current === lang}
          onClick={() => choose(lang)}
        >
          {LABELS[lang]}
        </button>
      ))}
    </div>
  );
}
