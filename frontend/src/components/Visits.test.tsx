// The volunteer's day of visits, grouped and ordered as the device gives them, each
// with what the resident's file lacks; and a resident's plan, where the visit due is
// recorded and a supervisor assigns one.
import { act, cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { PlanView, VisitRow } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import type { Route } from "./App";
import { MyVisits, VisitPlanCard } from "./Visits";

afterEach(cleanup);

const row = (n: number, when: VisitRow["when"], due: string, missing: VisitRow["missing"] = []): VisitRow => ({
  resident: `r${n}`,
  name: `测试居民${n}`,
  address: `测试路${n}号`,
  due,
  when,
  purpose: n % 2 === 0 ? "certification" : "checkup",
  service: "",
  proposed: n === 3,
  conflicted: false,
  missing,
});

describe("MyVisits", () => {
  it("groups the visits by when they are due and opens the resident", async () => {
    const i18n = await createI18n("zh-CN");
    const navigate = vi.fn((_route: Route) => undefined);
    const rows = [
      row(1, "overdue", "2026-12-04"),
      row(2, "today", "2026-12-07", ["phone", "authorization"]),
      row(3, "this_week", "2026-12-10"),
      row(4, "later", "2027-01-05"),
    ];
    const api = fakeApi({ myVisits: async () => rows, services: async () => [] });
    await act(async () => {
      render(
        <I18nextProvider i18n={i18n}>
          <MyVisits api={api} navigate={navigate} generation={0} />
        </I18nextProvider>,
      );
    });
    const groups = [...document.querySelectorAll("#home-visits .visit-group h4")].map((h) => h.textContent);
    expect(groups).toEqual(["已过期", "今天", "本周", "以后"]);
    const today = document.querySelector("#home-visits [data-when='today'] button");
    expect(today?.textContent).toContain("测试路2号");
    expect(today?.textContent).toContain("养老金认证");
    expect([...(today?.querySelectorAll(".missing") ?? [])].map((b) => b.textContent)).toEqual(["缺电话", "缺授权委托"]);
    expect(document.querySelector("#home-visits [data-when='this_week'] button")?.textContent).toContain("约定的下次走访");
    await act(async () => {
      fireEvent.click(document.querySelector("button[data-id='r4']") as Element);
    });
    expect(navigate).toHaveBeenLastCalledWith({ name: "resident", id: "r4" });
  });
});

const plan: PlanView = {
  plan: {
    resident: "r1",
    assignment: { assignee: "m1", assignee_name: "测试志愿者", due: "2026-12-10", purpose: "checkup", service: "" },
    assigned_by: "测试主任",
    assigned_at: 0,
    outcomes: [],
  },
  open: { assignee: "m1", assignee_name: "测试志愿者", due: "2026-12-10", purpose: "checkup", service: "", proposed: false },
  conflicted: false,
};

describe("VisitPlanCard", () => {
  it("records the visit due, with the next one proposed", async () => {
    const i18n = await createI18n("zh-CN");
    const recordVisitOutcome = vi.fn(async () => undefined);
    const api = fakeApi({ visitPlan: async () => plan, services: async () => [], recordVisitOutcome });
    await act(async () => {
      render(
        <I18nextProvider i18n={i18n}>
          <VisitPlanCard api={api} resident="r1" supervisor={false} generation={0} />
        </I18nextProvider>,
      );
    });
    expect(document.querySelector("#visit-open")?.textContent).toBe("2026年12月10日由测试志愿者走访：探访。");
    expect(document.querySelector("#visit-assign-form")).toBeNull();
    // Saved with no outcome chosen: said at the outcome, nothing sent.
    await act(async () => {
      fireEvent.click(document.getElementById("visit-outcome-save") as Element);
    });
    expect(recordVisitOutcome).not.toHaveBeenCalled();
    expect(document.querySelector("#visit-outcome-form .field-error")).not.toBeNull();
    await act(async () => {
      fireEvent.click(document.getElementById("visit-outcome-not_home") as Element);
    });
    const set = (id: string, value: string) => fireEvent.change(document.getElementById(id) as Element, { target: { value } });
    await act(async () => {
      set("visit-on-year", "2026");
      set("visit-on-month", "12");
      set("visit-on-day", "10");
      set("visit-next-year", "2026");
      set("visit-next-month", "12");
      set("visit-next-day", "17");
      set("visit-note", "邻居说周末在家");
    });
    await act(async () => {
      fireEvent.click(document.getElementById("visit-outcome-save") as Element);
    });
    await waitFor(() => expect(recordVisitOutcome).toHaveBeenCalled());
    expect(recordVisitOutcome).toHaveBeenCalledWith("r1", {
      outcome: "not_home",
      on: "2026-12-10",
      next_due: "2026-12-17",
      note: "邻居说周末在家",
    });
  });

  it("lets a supervisor assign the visit to someone of the roster", async () => {
    const i18n = await createI18n("zh-CN");
    const assignVisit = vi.fn(async () => "p1");
    const api = fakeApi({
      visitPlan: async () => null,
      services: async () => [],
      visitors: async () => [
        { id: "m1", name: "测试志愿者", role: "volunteer" },
        { id: "m2", name: "测试主任", role: "supervisor" },
      ],
      assignVisit,
    });
    await act(async () => {
      render(
        <I18nextProvider i18n={i18n}>
          <VisitPlanCard api={api} resident="r1" supervisor generation={0} />
        </I18nextProvider>,
      );
    });
    expect(document.querySelector("#visit-none")?.textContent).toBe("还没有安排走访。");
    const options = [...document.querySelectorAll("#visit-assignee option")].map((o) => o.textContent);
    expect(options).toEqual(["请选择走访人", "测试志愿者 (志愿者)", "测试主任 (主管)"]);
    const set = (id: string, value: string) => fireEvent.change(document.getElementById(id) as Element, { target: { value } });
    await act(async () => {
      set("visit-assignee", "m1");
      set("visit-due-year", "2026");
      set("visit-due-month", "12");
      set("visit-due-day", "20");
      fireEvent.click(document.getElementById("visit-purpose-certification") as Element);
    });
    await act(async () => {
      fireEvent.click(document.getElementById("visit-assign-save") as Element);
    });
    await waitFor(() => expect(assignVisit).toHaveBeenCalled());
    expect(assignVisit).toHaveBeenCalledWith("r1", {
      assignee: "m1",
      assignee_name: "测试志愿者",
      due: "2026-12-20",
      purpose: "certification",
      service: "",
    });
  });
});
