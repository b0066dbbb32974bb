import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it, vi } from "vitest";

import type { RosterPreview } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { RosterImport } from "./RosterImport";

/** A clerk's workbook: instructions first, the roster on its second sheet below a title,
 * a totals line and who drew it up at the bottom (synthetic). */
function preview(sheet: string): RosterPreview {
  const onRoster = sheet === "花名册";
  return {
    sheets: ["填表说明", "花名册"],
    sheet,
    ignored: onRoster
      ? [
          { line: 1, kind: "title", text: "测试社区高龄老人花名册" },
          { line: 6, kind: "total", text: "合 计 2人" },
          { line: 8, kind: "note", text: "制表人：测试丙" },
        ]
      : [],
    ignored_lines: onRoster ? 3 : 0,
    merged: onRoster
      ? [
          { first_line: 4, last_line: 5, header: "家庭住址", field: "address", filled: true },
          { first_line: 6, last_line: 7, header: "姓名", field: "name", filled: false },
        ]
      : [],
    merged_cells: onRoster ? 2 : 0,
    layout: onRoster ? { header_line: 3, columns: [null, "name", "id_number"] } : null,
    head: onRoster ? [[3, ["序号", "姓名", "身份证号码"]]] : [[1, ["请按下表填写"]]],
    headers: onRoster
      ? [
          ["序号", null],
          ["姓名", "name"],
          ["身份证号码", "id_number"],
        ]
      : [],
    rows: onRoster ? 2 : 0,
    new: onRoster ? 2 : 0,
    already_registered: 0,
    rejected: [],
    sample: [],
  };
}

describe("RosterImport", () => {
  it("says which sheet and header line it read, lists what it left out, and reads another sheet when asked", async () => {
    const i18n = await createI18n("zh-CN");
    const previewRoster = vi.fn((_name: string, _bytes: Uint8Array, _layout?: unknown, sheet?: string | null) =>
      Promise.resolve(preview(sheet ?? "花名册")),
    );
    const importRoster = vi.fn(() => Promise.resolve({ rows: 2, added: 2, already_registered: 0, rejected: [] }));
    render(
      <I18nextProvider i18n={i18n}>
        <RosterImport
          api={fakeApi({ previewRoster, importRoster })}
          committees={[{ id: "c1", name: "测试社区", phone: "" }]}
          progress={null}
        />
      </I18nextProvider>,
    );
    const input = document.querySelector("#import-file input[type=file], input#import-file") as HTMLInputElement;
    fireEvent.change(input, { target: { files: [new File([new Uint8Array([1, 2])], "名册.xls")] } });
    await waitFor(() => expect(document.querySelector("#import-header-line")).not.toBeNull());
    expect(document.querySelector("#import-header-line")?.textContent).toBe("读取的是工作表“花名册”，表头在第 3 行。");
    const sheet = screen.getByLabelText("读取工作表") as HTMLSelectElement;
    expect(sheet.value).toBe("花名册");
    const ignored = [...document.querySelectorAll("#import-ignored li")].map((li) => li.textContent);
    expect(ignored).toEqual(["第 1 行（标题）：测试社区高龄老人花名册", "第 6 行（合计）：合 计 2人", "第 8 行（备注）：制表人：测试丙"]);
    expect(document.querySelector("#import-ignored h4")?.textContent).toBe("没有导入的行（3）：标题、合计和备注");
    const merged = [...document.querySelectorAll("#import-merged li")].map((li) => li.textContent);
    expect(merged).toEqual([
      "第 4–5 行的“家庭住址”是一个合并单元格，已给每一行填上同样的内容，请核对。",
      "第 6–7 行的“姓名”是一个合并单元格，没有填到下面的行：每位居民的姓名要写在自己那一行。",
    ]);

    fireEvent.click(screen.getByRole("button", { name: "导入 2 人" }));
    await waitFor(() => expect(importRoster).toHaveBeenCalled());
    expect(importRoster).toHaveBeenCalledWith("名册.xls", expect.any(Uint8Array), "c1", null, null);

    // Another file, then the other sheet: read afresh, laid out by hand.
    fireEvent.change(input, { target: { files: [new File([new Uint8Array([1, 2])], "名册.xls")] } });
    await waitFor(() => expect(screen.getByLabelText("读取工作表")).toBeTruthy());
    fireEvent.change(screen.getByLabelText("读取工作表"), { target: { value: "填表说明" } });
    await waitFor(() => expect(previewRoster).toHaveBeenLastCalledWith("名册.xls", expect.any(Uint8Array), null, "填表说明"));
    await waitFor(() => expect(document.querySelector("#import-layout-missing")).not.toBeNull());
    expect(document.querySelector("#import-ignored")).toBeNull();
    expect(document.querySelector("#import-merged")).toBeNull();
  });
});
