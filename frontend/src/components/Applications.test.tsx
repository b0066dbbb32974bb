import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Api, ApplicationRow, Service, Status } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import type { Route } from "./App";
import { ApplicationsScreen } from "./Applications";
import { service } from "../testCatalog";

/** A moment given by its time in China (UTC+8), as the screens show it. */
const chinaTime = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  Date.UTC(y, mo, d, h - 8, mi, s);

afterEach(cleanup);

const PENSION: Service = service({
  code: "pension_certification",
  version: 1,
  name: { "zh-CN": "养老金资格认证", en: "Pension certification" },
  summary: { "zh-CN": "", en: "" },
  fields: [],
  attachments: [],
  steps: [],
});

const MEALS: Service = service({ ...PENSION, code: "meals", name: { "zh-CN": "助餐", en: "Meals" } });

function row(id: string, name: string, status: Status, service: string, updated: number): ApplicationRow {
  // Noon, local time: the dates shown do not depend on the test machine's timezone.
  const day = chinaTime(2026, 11, 1, 12, 0);
  return { id, resident: `r-${id}`, resident_name: name, service, status, conflicted: false, created_at: day, updated_at: day + updated };
}

const ROWS = [
  row("a1", "李秀英", "approved", PENSION.code, 1000),
  row("a2", "张建国", "returned", PENSION.code, 3000),
  row("a3", "刘玉兰", "approved", PENSION.code, 5000),
  row("a4", "王芳", "approved", MEALS.code, 7000),
  row("a5", "赵强", "submitted", MEALS.code, 9000),
];

async function renderList(api: Api, filters: { status?: Status | null; service?: string | null } = {}) {
  const i18n = await createI18n("zh-CN");
  const navigate = vi.fn((_route: Route) => undefined);
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <ApplicationsScreen api={api} navigate={navigate} generation={0} {...filters} />
      </I18nextProvider>,
    );
  });
  return navigate;
}

const api = () => fakeApi({ listApplications: vi.fn(async () => ROWS), services: async () => [PENSION, MEALS] });
const shownNames = () => [...document.querySelectorAll(".applications-row .row-title")].map((e) => e.textContent);

describe("ApplicationsScreen", () => {
  it("lists every application on the device, the most recently changed first", async () => {
    const fake = api();
    await renderList(fake);
    expect(fake.listApplications).toHaveBeenCalledWith(null);
    expect(shownNames()).toEqual(["赵强", "王芳", "刘玉兰", "张建国", "李秀英"]);
    expect(screen.getByRole("radio", { name: /全部（5）/ }).getAttribute("aria-checked")).toBe("true");
    expect(document.body.textContent).toContain("2026年12月1日 12:00");
  });

  it("opens with the status and service it was given, and the counts follow the service", async () => {
    await renderList(api(), { status: "approved", service: PENSION.code });
    expect(shownNames()).toEqual(["刘玉兰", "李秀英"]);
    expect(screen.getByRole("radio", { name: /已批准（2）/ }).getAttribute("aria-checked")).toBe("true");
    expect((document.getElementById("applications-service") as HTMLSelectElement).value).toBe(PENSION.code);
    // Every status of the catalog is offered, even with none.
    for (const s of ["草稿（0）", "已提交（0）", "已退回（1）", "已驳回（0）", "已报送（0）"]) {
      expect(screen.getByRole("radio", { name: s })).toBeTruthy();
    }
  });

  it("filters by status and service as they are chosen", async () => {
    await renderList(api());
    await act(async () => {
      fireEvent.click(document.getElementById("applications-status-approved") as HTMLElement);
    });
    expect(shownNames()).toEqual(["王芳", "刘玉兰", "李秀英"]);
    await act(async () => {
      fireEvent.change(document.getElementById("applications-service") as HTMLElement, { target: { value: MEALS.code } });
    });
    expect(shownNames()).toEqual(["王芳"]);
    await act(async () => {
      fireEvent.click(document.getElementById("applications-status-rejected") as HTMLElement);
    });
    expect(shownNames()).toEqual([]);
    expect(document.getElementById("applications-empty")?.textContent).toBe("没有符合条件的申请。");
  });

  it("opens a row in the review screen, with the way back to this list", async () => {
    const navigate = await renderList(api(), { status: "approved" });
    const first = document.querySelector<HTMLElement>(".applications-row");
    expect(first && within(first).getByText("已批准")).toBeTruthy();
    await act(async () => {
      fireEvent.click(first as HTMLElement);
    });
    expect(navigate).toHaveBeenCalledWith({
      name: "review",
      id: "a4",
      back: { name: "applications", status: "approved", service: null },
    });
  });

  it("says why when the device cannot list them", async () => {
    await renderList(fakeApi({ listApplications: async () => Promise.reject({ code: "locked", message: "" }), services: async () => [] }));
    expect(screen.getByRole("alert")).toBeTruthy();
  });
});
