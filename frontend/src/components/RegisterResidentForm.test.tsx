import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Api, ResidentInput, ResidentSummary, UiError } from "../api";
import { createI18n } from "../i18n";
import { RegisterResidentForm } from "./RegisterResidentForm";

afterEach(cleanup);

const SAVED: ResidentSummary = {
  id: "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11",
  name: "测试",
  id_number_masked: "**************0014",
  phone_masked: "",
  conflicted: false,
  created_at: 0,
};

async function renderForm(api: Api, onRegistered = vi.fn()) {
  const i18n = await createI18n("zh-CN");
  render(
    <I18nextProvider i18n={i18n}>
      <RegisterResidentForm api={api} onRegistered={onRegistered} />
    </I18nextProvider>,
  );
  return onRegistered;
}

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("RegisterResidentForm", () => {
  it("sends what was typed, clears the form and reports the save", async () => {
    const registerResident = vi.fn(async (_input: ResidentInput) => SAVED);
    const onRegistered = await renderForm({ registerResident, listResidents: async () => [] });
    type("姓名", "测试");
    type("身份证号", "110101194508150014");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "登记" }));
    });
    expect(registerResident).toHaveBeenCalledWith({ name: "测试", id_number: "110101194508150014", phone: "" });
    expect(onRegistered).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("status").textContent).toContain("已保存：测试");
    expect((screen.getByLabelText("姓名") as HTMLInputElement).value).toBe("");
  });

  it("shows refused fields where they are and keeps what was typed", async () => {
    const refusal: UiError = {
      code: "invalid_input",
      message: "invalid input",
      fields: [{ field: "id_number", code: "id_checksum" }],
    };
    const registerResident = vi.fn(async () => {
      throw refusal;
    });
    const onRegistered = await renderForm({ registerResident, listResidents: async () => [] });
    type("姓名", "测试");
    type("身份证号", "110101194508150015");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "登记" }));
    });
    const idInput = screen.getByLabelText("身份证号") as HTMLInputElement;
    expect(idInput.getAttribute("aria-invalid")).toBe("true");
    expect(idInput.value).toBe("110101194508150015");
    expect(document.getElementById("resident-id-number-error")?.textContent).toContain("校验不通过");
    expect(document.getElementById("resident-name-error")).toBeNull();
    expect(onRegistered).not.toHaveBeenCalled();
  });

  it("a storage failure is explained at the form, input kept", async () => {
    const registerResident = vi.fn(async () => {
      throw { code: "disk_full", message: "storage: disk full" };
    });
    await renderForm({ registerResident, listResidents: async () => [] });
    type("姓名", "测试");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "登记" }));
    });
    expect(screen.getByRole("status").textContent).toContain("存储空间已满");
    expect((screen.getByLabelText("姓名") as HTMLInputElement).value).toBe("测试");
  });
});
