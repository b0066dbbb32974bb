import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import type { Api, LogEvidence } from "../api";
import { formatDateTime } from "../dates";

/**
 * Every time the server's sync log did not hold against a checkpoint this device held:
 * the committee, when, why, and both signed checkpoints (the one held and the one
 * offered), which together prove the server said two things that cannot both be true.
 */
export function LogEvidenceList({ api, generation, committeeName }: {
  api: Api;
  generation: number;
  committeeName: (id: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const [evidence, setEvidence] = useState<LogEvidence[]>([]);

  useEffect(() => {
    api.logEvidence().then(setEvidence, () => undefined);
  }, [api, generation]);

  if (evidence.length === 0) return null;
  return (
    <section className="card error-banner" id="log-evidence" aria-labelledby="log-evidence-title">
      <h3 id="log-evidence-title">{t("log.evidence.title")}</h3>
      <p>{t("log.evidence.explain")}</p>
      <ol className="plain-list">
        {evidence.map((e) => (
          <li key={`${e.committee}-${e.time}`} className="log-evidence">
            <p>
              {t("log.evidence.when", {
                committee: committeeName(e.committee),
                time: formatDateTime(e.time, i18n.language),
              })}
            </p>
            <p className="evidence-kind">{t(`log.evidence.kind.${e.kind}`)}</p>
            <p className="evidence-reason" lang="en">
              {e.reason}
            </p>
            <p>{t("log.evidence.held")}</p>
            <pre className="evidence-note">{e.held || t("log.evidence.none")}</pre>
            <p>{t("log.evidence.offered")}</p>
            <pre className="evidence-note">{e.offered}</pre>
          </li>
        ))}
      </ol>
    </section>
  );
}
