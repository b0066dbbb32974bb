// Where the supervisor's console goes: an application opens for review, never in the
// volunteer's form; the applications list leads to review and back.
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type {
  Api,
  ApplicationRow,
  ApplicationView,
  CertificationView,
  ResidentView,
  Service,
  StartState,
  SyncState,
} from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { App } from "./App";
import { applicationView, service } from "../testCatalog";

afterEach(cleanup);

const text = (zh: string, en: string) => ({ "zh-CN": zh, en });
const PENSION: Service = service({
  code: "pension_certification",
  version: 1,
  name: text("养老金资格认证", "Pension certification"),
  summary: text("", ""),
  fields: [],
  attachments: [],
  steps: [],
});
const RESIDENT = "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11";
const APP_ID = "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e22";
const ROW: ApplicationRow = {
  id: APP_ID,
  resident: RESIDENT,
  resident_name: "李秀英",
  service: PENSION.code,
  status: "returned",
  conflicted: false,
  created_at: 1,
  updated_at: 2,
};
const VIEW: ApplicationView = applicationView({
  id: APP_ID,
  resident_id: RESIDENT,
  resident_name: "李秀英",
  service: PENSION.code,
  status: "returned",
});
/** Her certification, due this month (a year after the last one, which was filed). */
const DUE: CertificationView = {
  resident: RESIDENT,
  resident_name: "李秀英",
  committee: "c1",
  state: "due",
  to_visit: true,
  due_from: "2026-12-01",
  due_by: "2026-12-31",
  from_last: true,
  last_certified: "2025-12-03",
  certified_by: "filed",
  reference: "GOV-2025-0042",
};
const PERSON: ResidentView = {
  id: RESIDENT,
  name: "李秀英",
  gender: "female",
  birth_date: "1940-06-15",
  id_number: "**************0021",
  revealed: false,
  phone: "",
  address: "",
  needs: { hearing: false, vision: false, mobility: false },
  emergency: { name: "", phone: "", relation: "" },
  notes: "",
  created_at: 1,
  conflicted_fields: [],
  certification: DUE,
};
const SYNC: SyncState = {
  online: true,
  progress: null,
  running: false,
  last_error: null,
  last_report: null,
  unlocked: true,
  enrolled: true,
  pending_docs: 0,
  last_sync_at: null,
  conflicts: 0,
  refused: 0,
  aside: 0,
};

function deviceOf(role: "volunteer" | "supervisor"): Api {
  const start: StartState = {
    enrollment: { server_url: "http://127.0.0.1:1", name: "测试", role, committees: ["c1"] },
    has_pin: true,
    unlocked: true,
    volunteer: "测试",
    idle_lock_secs: 600,
    members: [],
  };
  return fakeApi({
    startState: async () => start,
    syncState: async () => SYNC,
    reviewQueue: async () => [],
    consoleCommittees: async () => [{ id: "c1", name: "幸福社区" }],
    services: async () => [PENSION],
    listApplications: async () => [ROW],
    certificationsToVisit: async () => [DUE],
    myVisits: async () => [],
    visitPlan: async () => null,
    visitors: async () => [],
    searchResidents: async () => [
      { id: RESIDENT, name: "李秀英", id_number_masked: "**************0021", phone_masked: "", conflicted: false, created_at: 1 },
    ],
    resident: async () => PERSON,
    authorizationsOf: async () => [],
    application: vi.fn(async () => VIEW),
  });
}

async function renderApp(api: Api) {
  const i18n = await createI18n("zh-CN");
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <App api={api} />
      </I18nextProvider>,
    );
  });
}

async function click(el: Element | null) {
  expect(el).toBeTruthy();
  await act(async () => {
    fireEvent.click(el as Element);
  });
}

/** From the residents list to the resident's page, then their application's row. */
async function openApplicationFromResidentPage() {
  await click(document.getElementById("nav-residents"));
  await click(await screen.findByRole("button", { name: /李秀英/ }));
  await waitFor(() => expect(document.querySelector(".application-row")).toBeTruthy());
  await click(document.querySelector(".application-row"));
}

describe("App", () => {
  it("lists on a volunteer's home the certifications to do, and the resident's page says where hers stands", async () => {
    await renderApp(deviceOf("volunteer"));
    const row = await screen.findByRole("button", { name: /李秀英.*本月应认证/ });
    expect(row.textContent).toContain("本月应认证，2026年12月31日前；上次 2025年12月3日，已归档（政府编号 GOV-2025-0042）");
    expect(document.querySelector("#home-certifications .count")?.textContent).toBe("1");
    await click(row);
    await waitFor(() => expect(document.getElementById("resident-certification")).toBeTruthy());
    expect(document.getElementById("resident-certification")?.textContent).toContain("养老金资格认证 待认证本月应认证");
  });

  it("opens a supervisor's application from a resident's page for review, not in the volunteer's form", async () => {
    await renderApp(deviceOf("supervisor"));
    await openApplicationFromResidentPage();
    await waitFor(() => expect(document.getElementById("review-status")?.textContent).toBe("已退回"));
    expect(document.getElementById("application-status")).toBeNull();
  });

  it("offers a supervisor no application to fill in: applications are the volunteers'", async () => {
    await renderApp(deviceOf("supervisor"));
    await click(document.getElementById("nav-residents"));
    await click(await screen.findByRole("button", { name: /李秀英/ }));
    await waitFor(() => expect(document.getElementById("resident-authorize")).toBeTruthy());
    expect(document.getElementById("resident-new-application")).toBeNull();
  });

  it("offers a volunteer a new application on the resident's page", async () => {
    await renderApp(deviceOf("volunteer"));
    await click(document.getElementById("nav-residents"));
    await click(await screen.findByRole("button", { name: /李秀英/ }));
    await waitFor(() => expect(document.getElementById("resident-new-application")).toBeTruthy());
  });

  it("keeps the volunteer's form for a volunteer", async () => {
    await renderApp(deviceOf("volunteer"));
    expect(document.getElementById("nav-applications")).toBeNull();
    await openApplicationFromResidentPage();
    await waitFor(() => expect(document.getElementById("application-status")).toBeTruthy());
    expect(document.getElementById("review-status")).toBeNull();
  });

  it("lists the supervisor's applications, opens one for review and goes back with the filter kept", async () => {
    await renderApp(deviceOf("supervisor"));
    await click(document.getElementById("nav-applications"));
    expect(document.getElementById("nav-applications")?.getAttribute("aria-current")).toBe("page");
    await click(await screen.findByRole("radio", { name: "已退回（1）" }));
    await click(document.querySelector(".applications-row"));
    await waitFor(() => expect(document.getElementById("review-status")).toBeTruthy());
    expect(document.getElementById("nav-applications")?.getAttribute("aria-current")).toBe("page");
    await click(document.getElementById("review-back"));
    await waitFor(() =>
      expect(screen.getByRole("radio", { name: "已退回（1）" }).getAttribute("aria-checked")).toBe("true"),
    );
  });
});
