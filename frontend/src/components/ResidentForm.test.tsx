import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Api, ResidentInput, ResidentSummary, ResidentView, UiError } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import type { Route } from "./App";
import { ResidentForm } from "./ResidentForm";

afterEach(cleanup);

const SAVED: ResidentSummary = {
  id: "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11",
  name: "测试",
  id_number_masked: "**************0014",
  phone_masked: "",
  conflicted: false,
  created_at: 0,
};

async function renderForm(api: Api, id: string | null = null) {
  const i18n = await createI18n("zh-CN");
  const navigate = vi.fn((_route: Route) => undefined);
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <ResidentForm api={api} navigate={navigate} generation={0} id={id} />
      </I18nextProvider>,
    );
  });
  return navigate;
}

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

async function click(name: string) {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name }));
  });
}

describe("ResidentForm", () => {
  it("registers what was typed and opens the resident", async () => {
    const registerResident = vi.fn(async (_input: ResidentInput) => SAVED);
    const navigate = await renderForm(fakeApi({ registerResident }));
    type("姓名", "测试");
    type("身份证号", "110101194508150014");
    await click("登记");
    expect(registerResident).toHaveBeenCalledWith({
      name: "测试",
      id_number: "110101194508150014",
      phone: "",
      gender: "",
      birth_date: "",
      address: "",
      needs: { hearing: false, vision: false, mobility: false },
      emergency: { name: "", phone: "", relation: "" },
    });
    expect(navigate).toHaveBeenCalledWith({ name: "resident", id: SAVED.id });
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
    const navigate = await renderForm(fakeApi({ registerResident }));
    type("姓名", "测试");
    type("身份证号", "110101194508150015");
    await click("登记");
    const idInput = screen.getByLabelText("身份证号") as HTMLInputElement;
    expect(idInput.getAttribute("aria-invalid")).toBe("true");
    expect(idInput.value).toBe("110101194508150015");
    // The volunteer is taken to it, wherever it is on a tall form.
    expect(document.activeElement).toBe(idInput);
    expect(document.getElementById("resident-id-number-error")?.textContent).toContain("校验不通过");
    expect(document.getElementById("resident-name-error")).toBeNull();
    expect(navigate).not.toHaveBeenCalled();
  });

  it("a storage failure is explained at the form, input kept", async () => {
    const registerResident = vi.fn(async () => {
      throw { code: "disk_full", message: "storage: disk full" };
    });
    await renderForm(fakeApi({ registerResident }));
    type("姓名", "测试");
    await click("登记");
    expect(screen.getByRole("status").textContent).toContain("存储空间已满");
    expect((screen.getByLabelText("姓名") as HTMLInputElement).value).toBe("测试");
  });

  it("records the help a resident needs and an emergency contact", async () => {
    const registerResident = vi.fn(async (_input: ResidentInput) => SAVED);
    await renderForm(fakeApi({ registerResident }));
    type("姓名", "测试");
    type("身份证号", "110101194508150014");
    fireEvent.click(screen.getByLabelText("视力不好"));
    type("和居民的关系（如：女儿）", "女儿");
    type("联系人电话", "13900001111");
    await click("登记");
    expect(registerResident).toHaveBeenCalledWith(
      expect.objectContaining({
        needs: { hearing: false, vision: true, mobility: false },
        emergency: { name: "", phone: "13900001111", relation: "女儿" },
      }),
    );
  });

  it("edits without showing the ID number or phone: left empty, they are kept", async () => {
    const view: ResidentView = {
      id: SAVED.id,
      name: "测试",
      gender: "male",
      birth_date: "1945-08-15",
      id_number: "**************0014",
      revealed: false,
      phone: "139****1234",
      address: "",
      needs: { hearing: true, vision: false, mobility: false },
      emergency: { name: "测试女儿", phone: "138****0000", relation: "女儿" },
      notes: "",
      created_at: 0,
      conflicted_fields: [],
    };
    const resident = vi.fn(async () => view);
    const updateResident = vi.fn(async () => SAVED);
    await renderForm(fakeApi({ resident, updateResident }), SAVED.id);
    expect(resident).toHaveBeenCalledWith(SAVED.id, null);
    expect((screen.getByLabelText("身份证号") as HTMLInputElement).value).toBe("");
    expect(document.body.textContent).toContain("**************0014");
    // The masked phone is shown beside an empty input, never put into it.
    expect((screen.getByLabelText("手机或座机（可不填）") as HTMLInputElement).value).toBe("");
    expect(document.body.textContent).toContain("139****1234");
    type("手机或座机（可不填）", "13900005678");
    await click("保存");
    // Needs and the emergency contact go back as they were; the masked contact phone,
    // not retyped, is left out (and so kept).
    expect((screen.getByLabelText("听力不好") as HTMLInputElement).checked).toBe(true);
    expect(updateResident).toHaveBeenCalledWith(SAVED.id, {
      name: "测试",
      phone: "13900005678",
      address: "",
      needs: { hearing: true, vision: false, mobility: false },
      emergency: { name: "测试女儿", relation: "女儿" },
    });
  });

  it("deletes a number on record only when asked, and can take that back", async () => {
    const view: ResidentView = {
      id: SAVED.id,
      name: "测试",
      gender: "male",
      birth_date: "1945-08-15",
      id_number: "**************0014",
      revealed: false,
      phone: "139****1234",
      address: "",
      needs: { hearing: false, vision: false, mobility: false },
      emergency: { name: "测试女儿", phone: "138****0000", relation: "女儿" },
      notes: "",
      created_at: 0,
      conflicted_fields: [],
    };
    const updateResident = vi.fn(async () => SAVED);
    await renderForm(fakeApi({ resident: vi.fn(async () => view), updateResident }), SAVED.id);
    fireEvent.click(document.getElementById("resident-phone-clear")!);
    expect(document.getElementById("resident-phone-keep")?.textContent).toContain("保存后删除");
    fireEvent.click(document.getElementById("resident-emergency-phone-clear")!);
    fireEvent.click(document.getElementById("resident-emergency-phone-clear")!);
    await click("保存");
    expect(updateResident).toHaveBeenCalledWith(SAVED.id, {
      name: "测试",
      phone: "",
      address: "",
      needs: { hearing: false, vision: false, mobility: false },
      emergency: { name: "测试女儿", relation: "女儿" },
    });
  });
});
