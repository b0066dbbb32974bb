// Two supervisors' offline plans of one visit: the conflict says who and what for in
// words, not member ids and codes, and a choice is sent as the value's operation.
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ConflictedRecord } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { ConflictsScreen } from "./Conflicts";

afterEach(cleanup);

const plan: ConflictedRecord = {
  id: "p1",
  kind: "visit",
  resident_name: "测试王桂兰",
  service: null,
  conflicts: [
    {
      field: "assignee",
      values: [
        { value: { type: "text", value: "m1" }, choice: "1@aa", author: null },
        { value: { type: "text", value: "m2" }, choice: "1@bb", author: null },
      ],
    },
    {
      field: "purpose",
      values: [
        { value: { type: "text", value: "checkup" }, choice: "2@aa", author: null },
        { value: { type: "text", value: "certification" }, choice: "2@bb", author: null },
      ],
    },
  ],
  masked: false,
  revealed: false,
};

describe("ConflictsScreen", () => {
  it("shows a visit plan's conflicting assignees and purposes in words", async () => {
    const i18n = await createI18n("zh-CN");
    const resolveConflict = vi.fn(async () => undefined);
    const api = fakeApi({
      conflictedRecords: async () => [plan],
      services: async () => [],
      visitors: async () => [
        { id: "m1", name: "测试志愿者甲", role: "volunteer" },
        { id: "m2", name: "测试志愿者乙", role: "volunteer" },
      ],
      resolveConflict,
    });
    await act(async () => {
      render(
        <I18nextProvider i18n={i18n}>
          <ConflictsScreen api={api} navigate={() => undefined} generation={0} />
        </I18nextProvider>,
      );
    });
    const values = (field: string) =>
      [...document.querySelectorAll(`fieldset[data-field='${field}'] .value`)].map((v) => v.textContent);
    expect(values("assignee")).toEqual(["测试志愿者甲", "测试志愿者乙"]);
    expect(values("purpose")).toEqual(["探访", "养老金认证"]);
    expect(document.querySelector(".conflict-record h3")?.textContent).toBe("测试王桂兰 · 走访安排");
    await act(async () => {
      fireEvent.click(document.querySelectorAll("fieldset[data-field='assignee'] .choose-value")[1] as Element);
    });
    expect(resolveConflict).toHaveBeenCalledWith("p1", "assignee", "1@bb", "");
  });
});
