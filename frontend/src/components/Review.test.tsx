// The review screen against a fake device: a supervisor never decides their own work,
// a decision pauses once, and personal numbers show whole only with the PIN.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ApplicationView, Service } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { Review } from "./Review";
import { field, service } from "../testCatalog";

afterEach(cleanup);

const T = (zh: string, en: string) => ({ "zh-CN": zh, en });
const SERVICE: Service = service({
  code: "pension_certification",
  version: 1,
  name: T("养老金资格认证", "Pension certification"),
  summary: T("", ""),
  fields: [field({ key: "pension_account", type: "text", label: T("养老金账户", "Pension account"), required: true, options: [], masked: true })],
  attachments: [],
  steps: [],
});

function view(ownWork: boolean, revealed = false): ApplicationView {
  return {
    id: "a1",
    resident_id: "r1",
    resident_name: "测试李秀英",
    service: SERVICE.code,
    status: "submitted",
    fields: { pension_account: { type: "text", value: revealed ? "6222000011112222" : "************2222" } },
    attachments: [],
    events: [{ id: "e1", kind: "submitted", at: 1, by: "志愿者甲", device: "d1", text: "" }],
    conflicted_fields: [],
    created_at: 1,
    typed: [],
    own_work: ownWork,
    amendable: false,
    disputed: [],
    revealed,
    blockers: [],
    // As the device offers them: nothing to judge on one's own work.
    decisions: ownWork
      ? []
      : [
          { decision: "approved", needs_text: false },
          { decision: "returned", needs_text: true },
          { decision: "rejected", needs_text: true },
        ],
    sensitive_kinds: [],
    consents: {},
  };
}

async function show(ownWork: boolean, extra: Parameters<typeof fakeApi>[0] = {}) {
  const i18n = await createI18n("zh-CN");
  const application = vi.fn(async (_id: string, pin?: string | null) => view(ownWork, pin === "975310"));
  const api = fakeApi({ application, services: async () => [SERVICE], authorizationsOf: async () => [], ...extra });
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <Review api={api} navigate={() => undefined} generation={0} id="a1" />
      </I18nextProvider>,
    );
  });
  return application;
}

async function click(el: Element | null) {
  expect(el).toBeTruthy();
  await act(async () => {
    fireEvent.click(el as Element);
  });
}

describe("Review", () => {
  it("says what its text box is for when it may file or reopen", async () => {
    const approved = view(false);
    approved.status = "approved";
    approved.decisions = [
      { decision: "filed", needs_text: true },
      { decision: "reopened", needs_text: false },
    ];
    await show(false, { application: async () => approved });
    const label = document.querySelector("label[for='review-text']")?.textContent ?? "";
    expect(label).toContain("办件编号");
    expect(label).toContain("重新打开时");
  });

  it("sends what to correct with a reopening", async () => {
    const approved = view(false);
    approved.status = "approved";
    approved.decisions = [
      { decision: "filed", needs_text: true },
      { decision: "reopened", needs_text: false },
    ];
    const recordReview = vi.fn(async () => "submitted" as const);
    await show(false, { application: async () => approved, recordReview });
    fireEvent.change(document.querySelector("#review-text") as HTMLTextAreaElement, { target: { value: "请更新账户" } });
    await click(document.querySelector("#decide-reopened"));
    await click(document.querySelector("#review-confirm-yes"));
    expect(recordReview).toHaveBeenCalledWith("a1", "reopened", "请更新账户");
  });

  it("names two contradicting decisions made offline and still offers a decision", async () => {
    const disputed = view(false);
    disputed.disputed = [
      { id: "e2", kind: "approved", at: 2, by: "测试主任甲", device: "d2", text: "" },
      { id: "e3", kind: "returned", at: 3, by: "测试主任乙", device: "d3", text: "请核对" },
    ];
    await show(false, { application: async () => disputed });
    const note = document.querySelector("#review-disputed")?.textContent ?? "";
    expect(note).toContain("两个决定相互矛盾");
    expect(note).toContain("测试主任甲“已批准”、测试主任乙“已退回”");
    expect(document.querySelector("#decide-approved")).toBeTruthy();
  });

  it("offers no decision on an application this device submitted or changed", async () => {
    await show(true);
    expect(document.querySelector("#review-own-work")?.textContent).toContain("另一位审核人");
    expect(document.querySelector("#decide-approved")).toBeNull();
    expect(document.querySelector("#decide-returned")).toBeNull();
  });

  it("asks once more before a decision, and a return asks for its comment first", async () => {
    const recordReview = vi.fn(async () => "approved" as const);
    await show(false, { recordReview });
    await click(document.querySelector("#decide-returned"));
    expect(document.querySelector("#review-text-error")).toBeTruthy();
    expect(document.querySelector("#review-confirm")).toBeNull();
    await click(document.querySelector("#decide-approved"));
    expect(recordReview).not.toHaveBeenCalled();
    expect(document.querySelector("#review-confirm")?.textContent).toContain("确定批准");
    await click(document.querySelector("#review-confirm-yes"));
    expect(recordReview).toHaveBeenCalledWith("a1", "approved", "");
  });

  it("shows the account masked, and whole only for the right PIN", async () => {
    const application = await show(false);
    expect(screen.getByText("************2222")).toBeTruthy();
    await click(document.querySelector("#review-reveal"));
    fireEvent.change(document.querySelector("#review-reveal-pin") as HTMLInputElement, { target: { value: "975310" } });
    await click(document.querySelector("#review-reveal-submit"));
    expect(application).toHaveBeenCalledWith("a1", "975310");
    expect(screen.getByText("6222000011112222")).toBeTruthy();
  });

  it("stays masked after hiding, even when the reveal's reload answers late", async () => {
    // The reload the reveal sets off is held until after the volunteer hides again.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let revealedLoads = 0;
    const application = vi.fn(async (_id: string, pin?: string | null) => {
      if (pin === "975310" && ++revealedLoads === 2) await held;
      return view(false, pin === "975310");
    });
    await show(false, { application });
    await click(document.querySelector("#review-reveal"));
    fireEvent.change(document.querySelector("#review-reveal-pin") as HTMLInputElement, { target: { value: "975310" } });
    await click(document.querySelector("#review-reveal-submit"));
    expect(screen.getByText("6222000011112222")).toBeTruthy();
    await click(document.querySelector("#review-reveal-hide"));
    expect(screen.getByText("************2222")).toBeTruthy();
    await act(async () => {
      release();
      await held;
    });
    expect(screen.getByText("************2222")).toBeTruthy();
    expect(screen.queryByText("6222000011112222")).toBeNull();
  });
});
