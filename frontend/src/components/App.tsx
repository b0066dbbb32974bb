import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Api, type StartState, type Status, type SyncState, type UiError, toUiError } from "../api";
import { errorText } from "../errors";
import { IdleTimer } from "../logic";
import { ApplicationForm } from "./ApplicationForm";
import { ApplicationsScreen } from "./Applications";
import { AuthorizationForm } from "./AuthorizationForm";
import { ConflictsScreen } from "./Conflicts";
import { UnsentScreen } from "./Unsent";
import { DataScreen } from "./DataScreen";
import { Devices } from "./Devices";
import { Members } from "./Members";
import { Home } from "./Home";
import { LanguageSwitch } from "./LanguageSwitch";
import { NewApplication } from "./NewApplication";
import { OverviewScreen } from "./Overview";
import { ResidentForm } from "./ResidentForm";
import { ResidentMode } from "./ResidentMode";
import { ResidentPage } from "./ResidentPage";
import { ResidentsScreen } from "./Residents";
import { Review } from "./Review";
import { ReviewQueue } from "./ReviewQueue";
import { EnrollAgainScreen, EnrollScreen, SetPinScreen, UnlockScreen } from "./StartScreens";
import { SyncBar } from "./SyncBar";
import { SyncLog } from "./SyncLog";

/** Where the volunteer is. */
export type Route =
  | { name: "home" }
  | { name: "residents" }
  | { name: "resident"; id: string }
  | { name: "resident-form"; id: string | null }
  | { name: "authorize"; resident: string }
  | { name: "new-application"; resident: string }
  | { name: "application"; id: string; flagged?: string[] }
  | { name: "resident-mode"; id: string }
  | { name: "conflicts" }
  /** Records that did not sync: refused by the server, or set aside here. */
  | { name: "unsent" }
  | { name: "enroll" }
  // The supervisor's console.
  | { name: "review-queue" }
  /** `back`: the list it was opened from, offered as the way back. */
  | { name: "review"; id: string; back?: Route }
  /** Every application by status and service; the filters preselected when given. */
  | { name: "applications"; status?: Status | null; service?: string | null }
  | { name: "log" }
  | { name: "overview" }
  | { name: "data" }
  | { name: "devices" }
  | { name: "members" };

export type Navigate = (route: Route) => void;

const SYNC_POLL_MS = 2000;
const ACTIVITY_EVENTS = ["pointerdown", "keydown", "wheel", "touchstart"] as const;

/** The whole app: start screens until unlocked, then the volunteer's (or supervisor's) screens. */
export function App({ api }: { api: Api }) {
  const { t } = useTranslation();
  const [start, setStart] = useState<StartState | null>(null);
  const [startError, setStartError] = useState<UiError | null>(null);
  const [skipEnroll, setSkipEnroll] = useState(false);

  useEffect(() => {
    api.startState().then(setStart, (thrown) => setStartError(toUiError(thrown)));
  }, [api]);

  /** Why the PIN screen shows: after idling, it says so (not at start or by hand). */
  const [idleLocked, setIdleLocked] = useState(false);
  const locked = useCallback(
    (idle: boolean) => {
      setIdleLocked(idle);
      setStart((s) => (s ? { ...s, unlocked: false } : s));
      // Who may unlock now (the office may have removed the one at work).
      api.startState().then(setStart, () => undefined);
    },
    [api],
  );

  if (startError) {
    return (
      <main className="start">
        <p role="alert" className="error-banner">
          {errorText(t, startError.code)}
        </p>
      </main>
    );
  }
  if (!start) {
    return <main className="start" aria-busy="true" />;
  }
  let screen;
  if (!start.has_pin && !start.enrollment && !skipEnroll) {
    screen = <EnrollScreen api={api} onDone={setStart} onSkip={() => setSkipEnroll(true)} />;
  } else if (!start.has_pin) {
    screen = <SetPinScreen api={api} onDone={setStart} askName={!start.enrollment} />;
  } else if (!start.unlocked && start.members.length > 0 && start.members.every((m) => m.removed)) {
    screen = <EnrollAgainScreen api={api} onDone={setStart} first={start.members[0]?.name ?? ""} />;
  } else if (!start.unlocked) {
    screen = (
      <UnlockScreen
        key={start.members.map((m) => `${m.id}:${m.removed}:${m.active}`).join(",")}
        api={api}
        onDone={setStart}
        volunteer={start.volunteer}
        members={start.members}
        idleSecs={idleLocked ? start.idle_lock_secs : null}
      />
    );
  } else {
    return <Main api={api} start={start} onLocked={locked} />;
  }
  return (
    <div className="app">
      <TopBar />
      {screen}
    </div>
  );
}

function TopBar({ children }: { children?: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <header className="topbar">
      <div>
        <h1 className="brand">{t("app.name")}</h1>
        {/* At work the bar is full of what matters (sync, lock, language): the
            tagline is for the start screens. */}
        {children ? null : <p className="tagline">{t("app.tagline")}</p>}
      </div>
      <div className="topbar-right">
        {children}
        <LanguageSwitch />
      </div>
    </header>
  );
}

function Main({ api, start, onLocked }: { api: Api; start: StartState; onLocked: (idle: boolean) => void }) {
  const { t } = useTranslation();
  const supervisor = start.enrollment?.role === "supervisor";
  const [route, setRoute] = useState<Route>(supervisor ? { name: "review-queue" } : { name: "home" });
  const [sync, setSync] = useState<SyncState | null>(null);
  /** Bumped after a sync received something, so the screen shown reloads. */
  const [generation, setGeneration] = useState(0);
  const mainRef = useRef<HTMLElement>(null);

  const lockNow = useCallback(() => {
    void api.lock().finally(() => onLocked(false));
  }, [api, onLocked]);
  const lockIdle = useCallback(() => {
    void api.lock().finally(() => onLocked(true));
  }, [api, onLocked]);

  const residentMode = route.name === "resident-mode";

  // The idle lock: the device enforces it too; this shows the PIN screen on time. Not in
  // resident mode, which has no timeouts (only the PIN leaves it).
  useEffect(() => {
    if (residentMode) return;
    const idle = new IdleTimer(start.idle_lock_secs * 1000, lockIdle);
    const onActivity = () => idle.activity();
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, onActivity, { passive: true });
    return () => {
      idle.stop();
      for (const e of ACTIVITY_EVENTS) window.removeEventListener(e, onActivity);
    };
  }, [start.idle_lock_secs, lockIdle, residentMode]);

  useEffect(() => {
    let alive = true;
    const poll = async () => {
      try {
        const s = await api.syncState();
        if (!alive) return;
        setSync(s);
        // Locked by the device itself: only its idle lock does that.
        if (!s.unlocked) onLocked(true);
      } catch {
        // The status line keeps what it showed; the next poll tries again.
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), SYNC_POLL_MS);
    const unsubscribe = api.onSynced(() => setGeneration((g) => g + 1));
    return () => {
      alive = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, [api, onLocked]);

  const navigate: Navigate = useCallback((next) => {
    setRoute(next);
    // Keyboard and screen-reader users land on the new screen's heading, unless they
    // have already gone into it (a quick tap into a field keeps its focus).
    requestAnimationFrame(() => {
      const main = mainRef.current;
      if (main && !main.contains(document.activeElement)) main.querySelector<HTMLElement>("h2")?.focus();
    });
  }, []);

  const syncNow = useCallback(async () => {
    try {
      await api.syncNow();
    } finally {
      setGeneration((g) => g + 1);
      setSync(await api.syncState().catch(() => null));
    }
  }, [api]);

  if (route.name === "resident-mode") {
    return (
      <ResidentMode
        api={api}
        start={start}
        id={route.id}
        onLeave={(flagged) => navigate({ name: "application", id: route.id, flagged })}
      />
    );
  }

  return (
    <div className="app">
      <TopBar>
        <SyncBar
          sync={sync}
          onSync={syncNow}
          onConflicts={() => navigate({ name: "conflicts" })}
          onUnsent={() => navigate({ name: "unsent" })}
          onEnroll={() => navigate({ name: "enroll" })}
          onAcceptLog={async (pin) => {
            await api.acceptServerLog(pin);
            await syncNow();
          }}
        />
        <button id="lock" type="button" className="topbar-button" onClick={lockNow}>
          {t("nav.lock")}
        </button>
      </TopBar>
      <nav className="nav" aria-label={t("nav.label")}>
        {supervisor ? (
          <NavButton
            id="nav-review"
            current={route.name === "review-queue" || (route.name === "review" && route.back?.name !== "applications")}
            onClick={() => navigate({ name: "review-queue" })}
          >
            {t("nav.review")}
          </NavButton>
        ) : (
          <NavButton id="nav-home" current={route.name === "home"} onClick={() => navigate({ name: "home" })}>
            {t("nav.home")}
          </NavButton>
        )}
        <NavButton
          id="nav-residents"
          current={route.name === "residents" || route.name === "resident"}
          onClick={() => navigate({ name: "residents" })}
        >
          {t("nav.residents")}
        </NavButton>
        <NavButton id="nav-conflicts" current={route.name === "conflicts"} onClick={() => navigate({ name: "conflicts" })}>
          {t("nav.conflicts")}
        </NavButton>
        {supervisor ? (
          <>
            <NavButton
              id="nav-applications"
              current={route.name === "applications" || (route.name === "review" && route.back?.name === "applications")}
              onClick={() => navigate({ name: "applications" })}
            >
              {t("nav.applications")}
            </NavButton>
            <NavButton id="nav-log" current={route.name === "log"} onClick={() => navigate({ name: "log" })}>
              {t("nav.log")}
            </NavButton>
            <NavButton id="nav-overview" current={route.name === "overview"} onClick={() => navigate({ name: "overview" })}>
              {t("nav.overview")}
            </NavButton>
            <NavButton id="nav-data" current={route.name === "data"} onClick={() => navigate({ name: "data" })}>
              {t("nav.data")}
            </NavButton>
            <NavButton id="nav-devices" current={route.name === "devices"} onClick={() => navigate({ name: "devices" })}>
              {t("nav.devices")}
            </NavButton>
          </>
        ) : null}
        <NavButton id="nav-members" current={route.name === "members"} onClick={() => navigate({ name: "members" })}>
          {t("nav.members")}
        </NavButton>
        <span className="nav-who">{t("nav.who", { name: start.volunteer })}</span>
      </nav>
      <main ref={mainRef} className="screen">
        {route.name === "review" && route.back ? (
          <BackLink back={route.back} navigate={navigate} />
        ) : null}
        <Screen api={api} route={route} navigate={navigate} generation={generation} supervisor={supervisor} />
      </main>
    </div>
  );
}

function NavButton(props: { id: string; current: boolean; onClick: () => void; children: React.ReactNode }) {
  return (
    <button
      id={props.id}
      type="button"
      className="nav-button"
      aria-current={props.current ? "page" : undefined}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/** What every screen gets: `generation` changes when a sync brought something new. */
export interface ScreenProps {
  api: Api;
  navigate: Navigate;
  generation: number;
}

/** The way back from a review to the list it was opened from, filters kept. */
function BackLink({ back, navigate }: { back: Route; navigate: Navigate }) {
  const { t } = useTranslation();
  return (
    <p>
      <button id="review-back" type="button" className="link" onClick={() => navigate(back)}>
        {t("applications.back")}
      </button>
    </p>
  );
}

function Screen({ route, supervisor, ...props }: ScreenProps & { route: Route; supervisor: boolean }) {
  switch (route.name) {
    case "home":
      return <Home {...props} />;
    case "residents":
      return <ResidentsScreen {...props} supervisor={supervisor} />;
    case "resident":
      return <ResidentPage key={route.id} {...props} id={route.id} supervisor={supervisor} />;
    case "resident-form":
      return <ResidentForm key={route.id} {...props} id={route.id} />;
    case "authorize":
      return <AuthorizationForm {...props} resident={route.resident} />;
    case "new-application":
      // Applications are the volunteers' to fill in (see ResidentPage).
      if (supervisor) return <ResidentPage key={route.resident} {...props} id={route.resident} supervisor />;
      return <NewApplication {...props} resident={route.resident} />;
    case "application":
      // A supervisor opens an application to review it, never the volunteer's form (from
      // which they could resubmit it and then approve their own submission).
      if (supervisor) return <Review key={route.id} {...props} id={route.id} />;
      return <ApplicationForm key={route.id} {...props} id={route.id} flagged={route.flagged ?? []} />;
    case "conflicts":
      return <ConflictsScreen {...props} />;
    case "unsent":
      return <UnsentScreen {...props} />;
    case "resident-mode":
      return null;
    case "review-queue":
      return <ReviewQueue {...props} />;
    case "review":
      return <Review key={route.id} {...props} id={route.id} />;
    case "applications":
      return (
        <ApplicationsScreen
          key={`${route.status ?? ""}|${route.service ?? ""}`}
          {...props}
          status={route.status}
          service={route.service}
        />
      );
    case "log":
      return <SyncLog {...props} />;
    case "overview":
      return <OverviewScreen {...props} />;
    case "data":
      return <DataScreen {...props} />;
    case "devices":
      return <Devices {...props} />;
    case "members":
      return <Members {...props} />;
    case "enroll":
      return <EnrollScreen api={props.api} onDone={() => props.navigate({ name: "home" })} onSkip={null} />;
  }
}
