import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { I18nextProvider } from "react-i18next";

import { tauriApi } from "./api";
import { App } from "./components/App";
import { createI18n, savedLanguage } from "./i18n";
import "./styles.css";

async function start(): Promise<void> {
  const i18n = await createI18n(savedLanguage(window.localStorage));
  document.documentElement.lang = i18n.language;
  const root = document.getElementById("root");
  if (!root) {
    throw new Error("index.html has no #root element");
  }
  createRoot(root).render(
    <StrictMode>
      <I18nextProvider i18n={i18n}>
        <App api={tauriApi} />
      </I18nextProvider>
    </StrictMode>,
  );
}

void start();
