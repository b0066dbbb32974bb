// Records that did not sync are each named, with why and what to do.
import { cleanup, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { UnsentScreen } from "./Unsent";

afterEach(cleanup);

const ID = "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11";

async function show(refused: number, aside: number, navigate = vi.fn(), authors: string[] = []) {
  const api = fakeApi({
    refusedRecords: async () =>
      Array.from({ length: refused }, () => ({
        id: ID,
        kind: "resident",
        resident_name: "测试甲",
        service: null,
        code: "document_too_large" as const,
        at: 1_780_272_000_000,
      })),
    recordsAside: async () =>
      Array.from({ length: aside }, () => ({
        doc_id: "0192f0c8-0000-7cc3-9a4e-3b1f2a9d8e99",
        kind: "resident",
        committee: "c1",
        code: authors.length > 0 ? ("rule_forbidden" as const) : ("record_malformed" as const),
        changes: 3,
        authors,
        at: 1_780_272_000_000,
      })),
    services: async () => [],
  });
  render(
    <I18nextProvider i18n={await createI18n("zh-CN")}>
      <UnsentScreen api={api} navigate={navigate} generation={0} />
    </I18nextProvider>,
  );
  await screen.findByRole("heading", { level: 2 });
  return navigate;
}

describe("UnsentScreen", () => {
  it("names a refused record, says why and what to do, and opens it", async () => {
    const navigate = await show(1, 0);
    const item = await screen.findByText("测试甲");
    expect(document.querySelector("#refused-list")?.textContent).toContain("有一条记录太大");
    expect(document.querySelector("#refused-list")?.textContent).toContain("修改后会自动重新上传");
    item.click();
    expect(navigate).toHaveBeenCalledWith({ name: "resident", id: ID });
  });

  it("names whose changes that failed the check claim to be", async () => {
    await show(0, 1, vi.fn(), ["测试志愿者甲 (test tablet)", "?ab12cd34"]);
    const list = (await screen.findByText(/自称来自/)).closest("ul");
    expect(list?.textContent).toContain("这些修改自称来自：测试志愿者甲 (test tablet)、未登记的设备（ab12cd34）");
    expect(list?.textContent).toContain("没有通过签名或权限核验");
    expect(list?.textContent).toContain("没有这个权限");
  });

  it("lists a record set aside, and says when there is nothing", async () => {
    await show(0, 1);
    expect((await screen.findByText(/不能保存$/)).tagName).toBe("H3");
    expect(document.querySelector("#aside-list")?.textContent).toContain("3 处修改");
    cleanup();
    await show(0, 0);
    expect(await screen.findByText("所有记录都已同步。")).toBeTruthy();
  });
});
