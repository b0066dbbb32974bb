import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import axe from "axe-core";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ApplicationView, Service } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { ApplicationForm } from "./ApplicationForm";
import { field, service } from "../testCatalog";

afterEach(cleanup);

const T = (zh: string, en: string) => ({ "zh-CN": zh, en });

const SERVICE: Service = service({
  code: "pension_certification",
  version: 1,
  name: T("养老金领取资格认证", "Pension certification"),
  summary: T("s", "s"),
  fields: [
    field({
      key: "pension_type",
      type: "choice",
      required: true,
      label: T("养老金类型", "Kind of pension"),
      options: [
        { value: "resident", label: T("城乡居民养老保险", "Residents' pension") },
        { value: "employee", label: T("企业职工养老保险", "Employees' pension") },
      ],
    }),
    field({ key: "last_certified_on", type: "date", required: false, label: T("上次认证日期", "Date of last certification"), options: [], past: true }),
    field({ key: "lives_at_registered_address", type: "bool", required: true, label: T("本人住在登记的地址", "Lives there"), options: [] }),
  ],
  attachments: [],
  steps: [{ title: T("信息", "Details"), body: T("b", "b"), fields: ["pension_type", "last_certified_on", "lives_at_registered_address"] }],
});

const APP: ApplicationView = {
  id: "a1",
  resident_id: "r1",
  resident_name: "测试",
  service: SERVICE.code,
  status: "draft",
  fields: { last_certified_on: { type: "text", value: "2025-03-08" } },
  attachments: [],
  events: [],
  conflicted_fields: [],
  created_at: 0,
  typed: [],
  own_work: false,
  amendable: false,
  disputed: [],
      revealed: false,
      blockers: [],
      decisions: [],
      sensitive_kinds: [],
      consents: {},
};

async function renderForm(typeApplicationField: (id: string, key: string, text: string) => Promise<string | null>, app: ApplicationView = APP) {
  const i18n = await createI18n("zh-CN");
  const api = fakeApi({ application: async () => app, services: async () => [SERVICE], typeApplicationField });
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <ApplicationForm api={api} navigate={vi.fn()} generation={0} id="a1" />
      </I18nextProvider>,
    );
  });
}

describe("ApplicationForm's fields", () => {
  it("offers few choices as buttons and saves a tap at once", async () => {
    const save = vi.fn(async () => null);
    await renderForm(save);
    expect(document.querySelector("select")).toBeNull();
    expect(screen.getByRole("radiogroup", { name: "本人住在登记的地址（必填）" }).id).toBe("field-lives_at_registered_address");
    await act(async () => {
      fireEvent.click(screen.getByRole("radio", { name: "是" }));
    });
    expect(save).toHaveBeenCalledWith("a1", "lives_at_registered_address", "true");
    expect(screen.getByRole("radio", { name: /是/ }).getAttribute("aria-checked")).toBe("true");
  });

  it("enters dates in three boxes, and the last certification cannot be in the future", async () => {
    await renderForm(vi.fn(async () => null));
    expect(document.querySelector("input[type=date]")).toBeNull();
    const year = document.getElementById("field-last_certified_on-year") as HTMLInputElement;
    expect(year.value).toBe("2025");
    expect((document.getElementById("field-last_certified_on-day") as HTMLInputElement).value).toBe("8");
    fireEvent.change(year, { target: { value: "2999" } });
    expect(document.getElementById("field-last_certified_on-error")?.textContent).toContain("不能晚于今天");
  });

  it("shows submitting as unavailable, and why, while something is missing", async () => {
    await renderForm(vi.fn(async () => null), { ...APP, blockers: [{ field: "form", key: "pension_type", code: "required" }] });
    await act(async () => {
      fireEvent.click(document.querySelector("#step-1") ?? document.body);
    });
    const blocked = document.querySelector("#application-submit");
    expect(blocked?.getAttribute("aria-disabled")).toBe("true");
    expect(blocked?.className).toContain("is-blocked");
    expect(blocked?.getAttribute("aria-describedby")).toBe("application-missing");
    cleanup();
    await renderForm(vi.fn(async () => null));
    await act(async () => {
      fireEvent.click(document.querySelector("#step-1") ?? document.body);
    });
    const ready = document.querySelector("#application-submit");
    expect(ready?.getAttribute("aria-disabled")).toBe("false");
    expect(ready?.className).not.toContain("is-blocked");
  });

  it("has no accessibility violations axe can see without layout", async () => {
    await renderForm(vi.fn(async () => null));
    fireEvent.change(document.getElementById("field-last_certified_on-year") as HTMLInputElement, { target: { value: "2999" } });
    const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });

  it("keeps each field's error line in place while it is empty", async () => {
    await renderForm(vi.fn(async () => null));
    for (const key of ["pension_type", "lives_at_registered_address"]) {
      const field = document.getElementById(`field-${key}`)?.closest(".field");
      const line = field?.querySelector(".field-error.reserve");
      expect(line?.textContent).toBe("");
      expect(line?.id).toBe("");
    }
  });
});
