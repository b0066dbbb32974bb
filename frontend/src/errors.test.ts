import { describe, expect, it } from "vitest";

import { toBase64, toUiError, type UiError } from "./api";
import { errorText, fieldMessages, pinRefusalText } from "./errors";
import { createI18n } from "./i18n";

describe("toUiError", () => {
  it("calls a code the device cannot send internal, keeping the message", () => {
    const e = toUiError({ code: "from_a_newer_build", message: "m" });
    expect(e).toEqual({ code: "internal", message: "m", fields: [] });
  });

  it("keeps a command's error shape", () => {
    const e = toUiError({ code: "invalid_input", message: "m", fields: [{ field: "name", code: "name_empty" }] });
    expect(e).toEqual({ code: "invalid_input", message: "m", fields: [{ field: "name", code: "name_empty" }] });
  });

  it("turns anything else into an internal error", () => {
    expect(toUiError("boom").code).toBe("internal");
    expect(toUiError(new Error("x")).code).toBe("internal");
    expect(toUiError({ code: 5 }).code).toBe("internal");
  });
});

describe("messages", () => {
  it("translates field codes in the chosen language, first error per field", async () => {
    const zh = await createI18n("zh-CN");
    const error: UiError = {
      code: "invalid_input",
      message: "",
      fields: [
        { field: "name", code: "name_empty" },
        { field: "name", code: "name_too_long" },
        { field: "id_number", code: "id_checksum" },
      ],
    };
    const zhMessages = fieldMessages(zh.t, error);
    expect(zhMessages.name).toBe("请填写姓名。");
    expect(zhMessages.id_number).toContain("校验不通过");
    expect(zhMessages.phone).toBeUndefined();
    const en = await createI18n("en");
    expect(fieldMessages(en.t, error).name).toBe("Please enter the name.");
  });

  it("an unknown code still tells the user something, naming the code", async () => {
    const en = await createI18n("en");
    expect(errorText(en.t, "brand_new_code")).toContain("brand_new_code");
  });
});

describe("toBase64", () => {
  it("encodes bytes as the device decodes them, across many slices", () => {
    expect(toBase64(new Uint8Array([0, 255, 16, 32]))).toBe("AP8QIA==");
    const big = new Uint8Array(200_003).map((_, i) => i % 251);
    const back = atob(toBase64(big));
    expect(back.length).toBe(big.length);
    let differing = 0;
    for (let i = 0; i < big.length; i++) if (back.charCodeAt(i) !== big[i]) differing++;
    expect(differing).toBe(0);
  });
});

describe("pinRefusalText", () => {
  it("counts wrong tries, then says how long to wait", async () => {
    const i18n = await createI18n("zh-CN");
    expect(pinRefusalText(i18n.t, { code: "pin_wrong", message: "", failures: 2, wait_ms: 0 })).toContain("已错 2 次");
    expect(pinRefusalText(i18n.t, { code: "pin_wait", message: "", wait_ms: 29_500 })).toContain("30");
    expect(pinRefusalText(i18n.t, { code: "pin_wrong", message: "", wait_ms: 60_000 }, 12)).toContain("12");
    expect(pinRefusalText(i18n.t, { code: "locked", message: "" })).toBe(i18n.t("errors.locked"));
  });
});
