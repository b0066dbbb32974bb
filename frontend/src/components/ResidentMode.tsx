import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import {
  type Api,
  type ApplicationView,
  type Sensitive,
  type Service,
  type StartState,
  type UiError,
  toUiError,
} from "../api";
import { errorText, pinRefusalText } from "../errors";
import {
  DEFAULT_RESIDENT_TEXT_SIZE,
  RESIDENT_TEXT_SIZES,
  type ResidentScreen,
  displayValue,
  listOf,
  residentScreens,
  settingsForNeeds,
  staffStepTitle,
  tx,
} from "../logic";
import { BlobImage } from "./BlobImage";
import { ResidentCamera } from "./ResidentCamera";
import { type SignatureHandle, SignatureField } from "./SignatureField";

const SIZE_KEY = "doorstep.resident.textSize";
const CONTRAST_KEY = "doorstep.resident.highContrast";
const AUTOREAD_KEY = "doorstep.resident.autoRead";

function stored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // A setting that cannot be kept still applies for this visit.
  }
}

interface Props {
  api: Api;
  start: StartState;
  id: string;
  /** Back to the volunteer, with the steps the resident asked to change. */
  onLeave: (flagged: string[]) => void;
}

/**
 * The application shown to the resident: one step per screen in large type, read aloud
 * on request, consent for each kind of sensitive data, and nothing that moves by itself.
 * Only the volunteer's PIN leaves it.
 */
export function ResidentMode({ api, start, id, onLeave }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [app, setApp] = useState<ApplicationView | null>(null);
  const [service, setService] = useState<Service | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [position, setPosition] = useState(0);
  const [changing, setChanging] = useState(false);
  /** On a consent screen, she said yes: the screen now asks for her signature. */
  const [signing, setSigning] = useState(false);
  const [flagged, setFlagged] = useState<string[]>([]);
  const [leaving, setLeaving] = useState(false);
  const [size, setSize] = useState(() => {
    const n = Number(stored(SIZE_KEY));
    return Number.isInteger(n) && n >= 0 && n < RESIDENT_TEXT_SIZES.length && stored(SIZE_KEY) !== null
      ? n
      : DEFAULT_RESIDENT_TEXT_SIZE;
  });
  const [contrast, setContrast] = useState(() => stored(CONTRAST_KEY) === "1");
  const [autoRead, setAutoRead] = useState(() => stored(AUTOREAD_KEY) === "1");
  const [speech, setSpeech] = useState<string | null>(null);
  const [reading, setReading] = useState(false);
  /** Read-aloud is offered only where a voice for the language is installed: a button
   * that can only say "no voice" would disappoint her, and the message is for staff. */
  const [canRead, setCanRead] = useState(false);
  const screenRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  /** The content goes on below what fits: say so, with a button to see it. */
  const [more, setMore] = useState(false);
  /** She has had the whole of this screen in view once: the answers may be given. */
  const [seenAll, setSeenAll] = useState(false);

  const reload = useCallback(async () => {
    const a = await api.application(id);
    setApp(a);
    return a;
  }, [api, id]);

  useEffect(() => {
    Promise.all([reload(), api.services()]).then(
      ([a, all]) => {
        setService(all.find((s) => s.code === a.service) ?? null);
        // Opens to suit her needs (larger text, read aloud); she can change it.
        api.resident(a.resident_id, null).then(
          (r) => {
            setSize((size) => settingsForNeeds(r.needs, { size, autoRead: false }).size);
            setAutoRead((autoRead) => settingsForNeeds(r.needs, { size: 0, autoRead }).autoRead);
          },
          () => undefined,
        );
      },
      (thrown) => setError(toUiError(thrown)),
    );
  }, [api, reload]);

  useEffect(() => {
    let current = true;
    // Not for this language until its voice is found.
    setCanRead(false);
    api.readAloudAvailable(lang).then(
      (yes) => current && setCanRead(yes),
      () => current && setCanRead(false),
    );
    return () => {
      current = false;
    };
  }, [api, lang]);

  const kinds = app?.sensitive_kinds;
  const screens = useMemo(() => (service && kinds ? residentScreens(service, kinds) : []), [service, kinds]);
  const screen = screens[Math.min(position, screens.length - 1)];

  const readText = useCallback(() => screenRef.current?.querySelector(".rm-content")?.textContent ?? "", []);

  // Says "reading" the moment the button is pressed (the engine takes a while to
  // start), and clears it when the reading ends or is stopped.
  const readAloud = useCallback(async () => {
    setSpeech(t("resident.reading"));
    setReading(true);
    try {
      await api.speak(readText(), lang);
    } catch (thrown) {
      setReading(false);
      setSpeech(errorText(t, toUiError(thrown).code));
    }
  }, [api, lang, readText, t]);

  /** The screen already read by itself: arriving and the voice turning up in one
   * render must not read it twice. */
  const spokenFor = useRef<string | null>(null);
  const screenKey = `${position}/${changing}/${signing}`;
  const readOnce = () => {
    if (spokenFor.current === screenKey) return;
    spokenFor.current = screenKey;
    void readAloud();
  };

  const stopReading = useCallback(() => {
    setReading(false);
    setSpeech(null);
    void api.stopSpeaking().catch(() => undefined);
  }, [api]);

  useEffect(() => {
    if (!reading) return;
    const timer = setInterval(() => {
      api.speaking().then(
        (still) => {
          if (!still) {
            setReading(false);
            setSpeech(null);
          }
        },
        () => undefined,
      );
    }, 700);
    return () => clearInterval(timer);
  }, [api, reading]);

  // Each new screen starts at its title, and reads itself when the resident asked so.
  useEffect(() => {
    screenRef.current?.querySelector<HTMLElement>("h1")?.focus();
    setSeenAll(false);
    if (contentRef.current) contentRef.current.scrollTop = 0;
    if (reading) void api.stopSpeaking().catch(() => undefined);
    setReading(false);
    setSpeech(null);
    spokenFor.current = null;
    if (autoRead && canRead && app && service) readOnce();
    // Only on arriving at a screen, not on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [position, changing, signing, app !== null, service !== null]);

  // The voice was found after she arrived: read this screen now if she asked for it.
  useEffect(() => {
    if (canRead && autoRead && app && service) readOnce();
    // Only when the voice turns up.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canRead]);

  useEffect(() => {
    const el = contentRef.current;
    if (!el) return;
    const check = () => {
      const hidden = el.scrollTop + el.clientHeight < el.scrollHeight - 4;
      setMore(hidden);
      if (!hidden) setSeenAll(true);
    };
    check();
    el.addEventListener("scroll", check, { passive: true });
    window.addEventListener("resize", check);
    return () => {
      el.removeEventListener("scroll", check);
      window.removeEventListener("resize", check);
    };
  });

  const chooseSize = (n: number) => {
    setSize(n);
    store(SIZE_KEY, String(n));
  };
  const toggleContrast = () => {
    setContrast(!contrast);
    store(CONTRAST_KEY, contrast ? "0" : "1");
  };
  const toggleAutoRead = () => {
    setAutoRead(!autoRead);
    store(AUTOREAD_KEY, autoRead ? "0" : "1");
  };

  const next = () => {
    setSigning(false);
    setPosition((p) => Math.min(p + 1, screens.length - 1));
  };
  const back = () => {
    setSigning(false);
    setPosition((p) => Math.max(p - 1, 0));
  };

  const className = `resident-mode rm-size-${size}${contrast ? " rm-contrast" : ""}`;
  if (error && !app) {
    return (
      <div className={className}>
        <p role="alert" className="rm-error">
          {errorText(t, error.code)}
        </p>
      </div>
    );
  }
  if (!app || !service || !screen) {
    return <div className={className} aria-busy="true" />;
  }

  const committee = listOf(start.enrollment?.committees ?? [], lang);
  /** Whether she can still ask for changes: once submitted, she reads what went in. */
  const open = app.status === "draft" || app.status === "returned";
  const asks = screen.kind === "step" && open && (service.steps[screen.index]?.fields.length ?? 0) > 0;
  return (
    <div className={className} ref={screenRef}>
      <header className="rm-bar">
        <span className="rm-progress" id="rm-progress">
          {t("resident.progress", { n: position + 1, total: screens.length })}
        </span>
        <div className="rm-settings" role="group" aria-label={t("resident.textSize")}>
          {RESIDENT_TEXT_SIZES.map((px, n) => (
            <button
              key={px}
              type="button"
              id={`rm-size-${n}`}
              className="rm-small-button"
              aria-pressed={size === n}
              onClick={() => chooseSize(n)}
            >
              {t(`resident.size${n}`)}
            </button>
          ))}
          <button type="button" id="rm-contrast" className="rm-small-button" aria-pressed={contrast} onClick={toggleContrast}>
            {t("resident.contrast")}
          </button>
          {canRead ? (
            <button type="button" id="rm-autoread" className="rm-small-button" aria-pressed={autoRead} onClick={toggleAutoRead}>
              {t("resident.autoRead")}
            </button>
          ) : null}
        </div>
      </header>
      <main className="rm-main">
        {leaving ? (
          <LeavePanel api={api} onCancel={() => setLeaving(false)} onLeft={() => onLeave(flagged)} />
        ) : (
          <>
            <div className="rm-content" ref={contentRef}>
              {changing ? (
                <ChangeScreen />
              ) : signing && screen.kind === "consent" ? (
                <SignScreen data={screen.data} />
              ) : (
                <ScreenContent
                  api={api}
                  reload={reload}
                  screen={screen}
                  service={service}
                  app={app}
                  volunteer={start.volunteer}
                  committee={committee}
                />
              )}
            </div>
            {more && !seenAll ? (
              // Nothing is answered before it has been seen: the answers wait below the
              // fold until she has scrolled to the end, in the row where they will be.
              <div className="rm-actions">
                {position > 0 && !changing && !signing ? (
                  <button type="button" id="rm-back" className="rm-button" onClick={back}>
                    {t("resident.back")}
                  </button>
                ) : null}
                <span id="rm-more">
                  <button
                    type="button"
                    id="rm-more-button"
                    className="rm-button rm-primary"
                    onClick={() => contentRef.current?.scrollBy({ top: contentRef.current.clientHeight * 0.8 })}
                  >
                    {t("resident.moreButton")}
                  </button>
                </span>
              </div>
            ) : changing ? (
              <div className="rm-actions">
                <button type="button" id="rm-change-done" className="rm-button rm-primary" onClick={() => setChanging(false)}>
                  {t("resident.changeBack")}
                </button>
              </div>
            ) : screen.kind === "consent" ? (
              <ConsentActions
                api={api}
                app={app}
                data={screen.data}
                signing={signing}
                onSigning={setSigning}
                onDone={async () => {
                  await reload();
                  next();
                }}
                onBack={back}
                onNext={next}
              />
            ) : (
              <div className="rm-actions">
                {position > 0 ? (
                  <button type="button" id="rm-back" className="rm-button" onClick={back}>
                    {t("resident.back")}
                  </button>
                ) : null}
                {screen.kind !== "done" ? (
                  <button
                    type="button"
                    id="rm-yes"
                    className="rm-button rm-primary"
                    onClick={() => {
                      // Confirming a step she had asked to change takes the request back.
                      if (screen.kind === "step") {
                        const title = staffStepTitle(service, service.steps[screen.index]?.fields ?? [], lang);
                        setFlagged((f) => f.filter((x) => x !== title));
                      }
                      next();
                    }}
                  >
                    {asks ? t("resident.yes") : t("resident.next")}
                  </button>
                ) : null}
                {asks ? (
                  <button
                    type="button"
                    id="rm-change"
                    className="rm-button"
                    onClick={() => {
                      const title = staffStepTitle(service, service.steps[screen.index]?.fields ?? [], lang);
                      setFlagged((f) => (f.includes(title) ? f : [...f, title]));
                      setChanging(true);
                    }}
                  >
                    {t("resident.change")}
                  </button>
                ) : null}
              </div>
            )}
            {/* One row of tools under the answers: read aloud, see the rest, and the way
                out for the volunteer. */}
            <div className="rm-read rm-tools">
              {!canRead ? null : reading ? (
                <button type="button" id="rm-stop" className="rm-button rm-read-button" onClick={stopReading}>
                  {t("resident.stopReading")}
                </button>
              ) : (
                <button type="button" id="rm-read" className="rm-button rm-read-button" onClick={() => void readAloud()}>
                  {t("resident.readToMe")}
                </button>
              )}
              {/* After she has seen the whole screen once, a larger text size can push
                  some of it below again: say so here, in a place kept for it so that
                  nothing moves when it comes and goes. */}
              <span className={more && seenAll ? "rm-more" : "rm-more rm-hidden"} aria-hidden={!(more && seenAll)}>
                <button
                  type="button"
                  id="rm-more-again"
                  className="rm-button"
                  tabIndex={more && seenAll ? 0 : -1}
                  onClick={() => contentRef.current?.scrollBy({ top: contentRef.current.clientHeight * 0.8 })}
                >
                  {t("resident.moreShort")}
                </button>
              </span>
              <p id="rm-speech" className="rm-speech" role="status">
                {speech ?? ""}
              </p>
              <button type="button" id="rm-leave" className="rm-small-button rm-leave-button" onClick={() => setLeaving(true)}>
                {t("resident.volunteerOnly")}
              </button>
            </div>
          </>
        )}
      </main>
    </div>
  );
}

function ScreenContent(props: {
  api: Api;
  reload: () => Promise<unknown>;
  screen: ResidentScreen;
  service: Service;
  app: ApplicationView;
  volunteer: string;
  committee: string;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { screen, service, app } = props;
  switch (screen.kind) {
    case "welcome":
      return (
        <>
          <h1 tabIndex={-1}>{t("resident.welcome", { name: app.resident_name })}</h1>
          <p>
            {props.committee
              ? t("resident.helper", { volunteer: props.volunteer, committee: props.committee })
              : t("resident.helperNoCommittee", { volunteer: props.volunteer })}
          </p>
          <p>{t("resident.welcomeBody", { service: tx(service.name, lang) })}</p>
        </>
      );
    case "step": {
      const step = service.steps[screen.index];
      if (!step) return null;
      return (
        <>
          {screen.index === 0 ? <p className="rm-service">{tx(service.name, lang)}</p> : null}
          <h1 tabIndex={-1}>{tx(step.title, lang)}</h1>
          <p>{tx(step.body, lang)}</p>
          {step.fields.length > 0 ? (
            <dl className="rm-values">
              {step.fields.map((key) => {
                const def = service.fields.find((f) => f.key === key);
                const slot = service.attachments.find((a) => a.key === key);
                const label = tx(def?.label ?? slot?.label, lang);
                const shown = def ? displayValue(app.fields[key], def, lang, { yes: t("common.yes"), no: t("common.no") }) : "";
                // A number masked but for its end reads, and is read aloud, as its end.
                const tail = /^[*＊]{3,}([0-9Xx]{2,6})$/.exec(shown)?.[1];
                const value = def
                  ? tail
                    ? t("resident.numberEndingIn", { tail })
                    : shown
                  : app.attachments.some((a) => a.slot === key)
                    ? t("resident.attached")
                    : "";
                const photos = def ? [] : app.attachments.filter((a) => a.slot === key && a.mime.startsWith("image/"));
                return (
                  <div key={key} className="rm-value">
                    <dt>{label}</dt>
                    <dd>
                      {value || t("resident.notGiven")}
                      {photos.map((a) => (
                        <BlobImage key={a.sha256} api={props.api} sha256={a.sha256} mime={a.mime} alt={label} />
                      ))}
                    </dd>
                  </div>
                );
              })}
            </dl>
          ) : null}
        </>
      );
    }
    case "consent": {
      const decided = app.consents[screen.data];
      return (
        <>
          <h1 tabIndex={-1}>{t(`consent.${screen.data}.title`)}</h1>
          <dl className="rm-values">
            <div className="rm-value">
              <dt>{t("consent.what")}</dt>
              <dd>{t(`consent.${screen.data}.data`)}</dd>
            </div>
            <div className="rm-value">
              <dt>{t("consent.why")}</dt>
              <dd>{t(`consent.${screen.data}.purpose`, { service: tx(service.name, lang) })}</dd>
            </div>
            <div className="rm-value">
              <dt>{t("consent.who")}</dt>
              <dd>{t("consent.whoSees")}</dd>
            </div>
            {service.attachments
              .filter((a) => a.sensitive === screen.data && a.kept)
              .slice(0, 1)
              .map((a) => (
                <div className="rm-value" key={a.key} id="rm-kept">
                  <dt>{t("consent.kept")}</dt>
                  <dd>{tx(a.kept, lang)}</dd>
                </div>
              ))}
          </dl>
          {decided !== undefined ? (
            <p className="rm-decided" id="rm-decided">
              {app.status === "draft" || app.status === "returned"
                ? decided
                  ? t("consent.alreadyAgreed")
                  : t("consent.alreadyDeclined")
                : decided
                  ? t("consent.agreedStands")
                  : t("consent.declinedStands")}
            </p>
          ) : (
            <p>{t("consent.choice")}</p>
          )}
          {/* Agreed to her photo: it can be taken here, on her screen. */}
          {screen.data === "face" && decided && (app.status === "draft" || app.status === "returned") ? (
            <ResidentCamera api={props.api} app={app} service={service} onAttached={props.reload} />
          ) : null}
        </>
      );
    }
    case "done": {
      const consents = app.consents;
      const declined = service.attachments.filter((a) => a.sensitive && consents[a.sensitive] === false);
      return (
        <>
          <h1 tabIndex={-1}>{t("resident.doneTitle")}</h1>
          <p>{app.status === "draft" || app.status === "returned" ? t("resident.doneBody") : t("resident.doneBodySubmitted")}</p>
          {app.status === "draft" ? <p id="rm-receipt-later">{t("receipt.later")}</p> : <ReceiptButton api={props.api} app={app} />}
          {declined.length > 0 ? (
            <div className="rm-declined" id="rm-declined">
              <p>{t("resident.declinedIntro")}</p>
              <ul>
                {declined.map((a) => (
                  <li key={a.key}>{tx(a.label, lang)}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </>
      );
    }
  }
}

/** A large-print receipt, saved as a PDF, then opened to print. */
function ReceiptButton({ api, app }: { api: Api; app: ApplicationView }) {
  const { t, i18n } = useTranslation();
  const [path, setPath] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const make = async () => {
    setMessage(null);
    const consents = app.consents;
    const lines = (Object.entries(consents) as [Sensitive, boolean][]).map(([data, agreed]) =>
      t("consent.event", { data: t(`consent.${data}.data`), decision: agreed ? t("consent.agreed") : t("consent.declined") }),
    );
    try {
      const saved = await api.saveReceipt(app.id, {
        title: t("receipt.title"),
        resident: t("receipt.resident"),
        service: t("receipt.service"),
        reference: t("receipt.reference"),
        date: t("receipt.date"),
        helper: t("receipt.helper"),
        status: t("receipt.status"),
        next: t("receipt.next"),
        consents: t("receipt.consents"),
        phone: t("receipt.phone"),
        status_text: t(`receipt.statusPlain.${app.status}`),
        consent_lines: lines,
        lang: i18n.language,
      });
      setPath(saved);
      setMessage(t("receipt.saved"));
    } catch (thrown) {
      setMessage(errorText(t, toUiError(thrown).code));
    }
  };
  const open = async () => {
    if (!path) return;
    try {
      await api.openReceipt(path);
      // The system's PDF viewer takes a moment, or may show nothing: say where it is.
      setMessage(t("receipt.opened", { path }));
    } catch (thrown) {
      setMessage(errorText(t, toUiError(thrown).code));
    }
  };
  return (
    <div className="rm-receipt">
      <div className="rm-actions">
        {/* Once made, the one thing left to do with it is to open it. */}
        {path ? null : (
          <button type="button" id="rm-receipt" className="rm-button" onClick={() => void make()}>
            {t("receipt.make")}
          </button>
        )}
        {path ? (
          <button type="button" id="rm-receipt-open" className="rm-button" onClick={() => void open()}>
            {t("receipt.open")}
          </button>
        ) : null}
      </div>
      {message ? (
        <p id="rm-receipt-status" role="status" data-path={path ?? ""}>
          {message}
        </p>
      ) : null}
    </div>
  );
}

function SignScreen({ data }: { data: Sensitive }) {
  const { t } = useTranslation();
  return (
    <>
      <h1 tabIndex={-1}>{t("consent.signTitle")}</h1>
      <p>{t("consent.signBody", { data: t(`consent.${data}.data`) })}</p>
    </>
  );
}

function ChangeScreen() {
  const { t } = useTranslation();
  return (
    <>
      <h1 tabIndex={-1}>{t("resident.changeTitle")}</h1>
      <p>{t("resident.changeBody")}</p>
    </>
  );
}

function ConsentActions(props: {
  api: Api;
  app: ApplicationView;
  data: Sensitive;
  onDone: () => Promise<void>;
  onBack: () => void;
  onNext: () => void;
  signing: boolean;
  onSigning: (signing: boolean) => void;
}) {
  const { t } = useTranslation();
  const signature = useRef<SignatureHandle>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const open = props.app.status === "draft" || props.app.status === "returned";

  const decide = async (agreed: boolean) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const png = agreed ? await signature.current?.png() : null;
      if (agreed && !png) {
        setError(t("consent.signFirst"));
        return;
      }
      await props.api.recordConsent(props.app.id, props.data, agreed, png ?? null);
      await props.onDone();
    } catch (thrown) {
      const e = toUiError(thrown);
      setError(errorText(t, e.fields?.[0]?.code ?? e.code));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="rm-consent">
      {!open ? (
        // Submitted: her decision stands as recorded; she reads on.
        <div className="rm-actions">
          <button type="button" id="rm-back" className="rm-button" onClick={props.onBack}>
            {t("resident.back")}
          </button>
          <button type="button" id="rm-yes" className="rm-button rm-primary" onClick={props.onNext}>
            {t("resident.next")}
          </button>
        </div>
      ) : null}
      {open && !props.signing ? (
        // First the question alone, with room for its explanation.
        <div className="rm-actions">
          <button type="button" id="rm-back" className="rm-button" onClick={props.onBack}>
            {t("resident.back")}
          </button>
          {/* Agreeing and declining look alike: nothing nudges her either way. */}
          <button
            type="button"
            id="rm-agree"
            className="rm-button"
            onClick={() => {
              setError(null);
              props.onSigning(true);
            }}
          >
            {t("consent.agreeStart")}
          </button>
          <button type="button" id="rm-decline" className="rm-button" disabled={busy} onClick={() => void decide(false)}>
            {t("consent.decline")}
          </button>
        </div>
      ) : null}
      {open && props.signing ? (
        // Then her signature, on a screen of its own.
        <>
          <SignatureField ref={signature} id="rm-signature" label={t("consent.signHere")} error={error ?? undefined} />
          <div className="rm-actions">
            <button type="button" id="rm-sign-back" className="rm-button" onClick={() => props.onSigning(false)}>
              {t("resident.back")}
            </button>
            <button type="button" id="rm-signed" className="rm-button rm-primary" disabled={busy} onClick={() => void decide(true)}>
              {t("consent.agree")}
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}

function LeavePanel({ api, onCancel, onLeft }: { api: Api; onCancel: () => void; onLeft: () => void }) {
  const { t } = useTranslation();
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    try {
      await api.leaveResidentMode(pin);
      onLeft();
    } catch (thrown) {
      setPin("");
      setError(pinRefusalText(t, toUiError(thrown)));
    }
  };
  return (
    <form
      className="rm-content rm-leave"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h1 tabIndex={-1}>{t("resident.leaveTitle")}</h1>
      <label htmlFor="rm-pin">{t("pin.enter")}</label>
      <input
        id="rm-pin"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        maxLength={12}
        value={pin}
        onChange={(e) => setPin(e.target.value.replace(/\D/g, ""))}
      />
      {error ? (
        <p className="rm-error" id="rm-pin-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="rm-actions">
        <button type="submit" id="rm-leave-submit" className="rm-button rm-primary">
          {t("resident.leave")}
        </button>
        <button type="button" id="rm-leave-cancel" className="rm-button" onClick={onCancel}>
          {t("resident.stay")}
        </button>
      </div>
    </form>
  );
}
