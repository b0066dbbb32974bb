import { fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { describe, expect, it, vi } from "vitest";

import { createI18n } from "../i18n";
import { RosterLayoutPicker } from "./RosterLayoutPicker";

const HEAD: [number, string[]][] = [
  [1, ["示范村老人花名册"]],
  [2, ["编号", "老人信息", "证号"]],
  [3, ["1", "测试甲", "**************0014"]],
];

describe("RosterLayoutPicker", () => {
  it("takes the header line and what each column holds, and refuses a field twice", async () => {
    const i18n = await createI18n("zh-CN");
    const onApply = vi.fn();
    render(
      <I18nextProvider i18n={i18n}>
        <RosterLayoutPicker head={HEAD} layout={null} busy={false} onApply={onApply} />
      </I18nextProvider>,
    );
    const apply = screen.getByRole("button", { name: "按这样读取" }) as HTMLButtonElement;
    expect(apply.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("第 2 行是表头"));
    fireEvent.change(screen.getByLabelText("第 2 列是"), { target: { value: "name" } });
    fireEvent.change(screen.getByLabelText("第 3 列是"), { target: { value: "name" } });
    expect(screen.getByRole("alert").textContent).toContain("选了两列");
    expect(apply.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("第 3 列是"), { target: { value: "id_number" } });
    expect(apply.disabled).toBe(false);
    fireEvent.click(apply);
    expect(onApply).toHaveBeenCalledWith({ header_line: 2, columns: [null, "name", "id_number"] });
  });
});
