import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import { todayYmd } from "../dates";
import { type Language, createI18n } from "../i18n";
import { DateField } from "./DateField";

afterEach(cleanup);

/** A DateField whose parent keeps the text, as the forms do. */
function Harness(props: { initial: string; max?: string; error?: string; onChange: (t: string) => void; onCommit?: (t: string) => void }) {
  const [value, setValue] = useState(props.initial);
  return (
    <>
      <span id="when-label">日期</span>
      <DateField
        id="when"
        value={value}
        max={props.max}
        error={props.error}
        labelledBy="when-label"
        onChange={(text) => {
          setValue(text);
          props.onChange(text);
        }}
        {...(props.onCommit ? { onCommit: props.onCommit } : {})}
      />
      <button type="button">next</button>
    </>
  );
}

async function renderField(props: Parameters<typeof Harness>[0], lang: Language = "zh-CN") {
  const i18n = await createI18n(lang);
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <Harness {...props} />
      </I18nextProvider>,
    );
  });
}

const input = (part: string) => document.getElementById(`when-${part}`) as HTMLInputElement;
const type = (part: string, value: string) => fireEvent.change(input(part), { target: { value } });

describe("DateField", () => {
  it("shows three numeric boxes labelled in the UI language, no calendar", async () => {
    await renderField({ initial: "2026-12-01", onChange: vi.fn() });
    expect(input("year").value).toBe("2026");
    expect(input("month").value).toBe("12");
    expect(input("day").value).toBe("1");
    for (const part of ["year", "month", "day"]) {
      expect(input(part).type).toBe("text");
      expect(input(part).inputMode).toBe("numeric");
    }
    expect(screen.getByLabelText("日期 年")).toBe(input("year"));
    expect(screen.getByLabelText("日期 日")).toBe(input("day"));
    expect(document.querySelector("input[type=date]")).toBeNull();
  });

  it("labels the boxes in English", async () => {
    await renderField({ initial: "", onChange: vi.fn() }, "en");
    expect(screen.getByLabelText("日期 Year")).toBe(input("year"));
    expect(screen.getByLabelText("日期 Month")).toBe(input("month"));
  });

  it("emits what was typed until complete, then YYYY-MM-DD", async () => {
    const onChange = vi.fn();
    await renderField({ initial: "", onChange });
    type("year", "2027");
    expect(onChange).toHaveBeenLastCalledWith("2027--");
    type("month", "1");
    expect(onChange).toHaveBeenLastCalledWith("2027-1-");
    type("day", "5");
    expect(onChange).toHaveBeenLastCalledWith("2027-01-05");
    // The boxes keep what was typed, not the padded form.
    expect(input("month").value).toBe("1");
    type("month", "01");
    expect(onChange).toHaveBeenLastCalledWith("2027-01-05");
    expect(input("month").value).toBe("01");
    type("day", "");
    type("month", "");
    type("year", "");
    expect(onChange).toHaveBeenLastCalledWith("");
  });

  it("keeps digits only, full-width ones included", async () => {
    const onChange = vi.fn();
    await renderField({ initial: "", onChange });
    type("year", "２０２７年");
    expect(input("year").value).toBe("2027");
  });

  it("commits when the focus leaves all three boxes", async () => {
    const onCommit = vi.fn();
    await renderField({ initial: "2027-1-", onChange: vi.fn(), onCommit });
    fireEvent.blur(input("year"), { relatedTarget: input("month") });
    expect(onCommit).not.toHaveBeenCalled();
    fireEvent.blur(input("month"), { relatedTarget: screen.getByRole("button", { name: "next" }) });
    expect(onCommit).toHaveBeenCalledWith("2027-1-");
  });

  it("says so when a complete date is after max, today by name", async () => {
    await renderField({ initial: "", max: todayYmd(), onChange: vi.fn() });
    const error = () => document.querySelector(".date-field .field-error");
    expect(error()?.textContent).toBe("");
    expect(error()?.id).toBe("");
    type("year", "9999");
    type("month", "1");
    expect(error()?.textContent).toBe("");
    type("day", "1");
    expect(error()?.textContent).toContain("不能晚于今天");
    expect(input("day").getAttribute("aria-invalid")).toBe("true");
    expect(input("day").getAttribute("aria-describedby")).toBe("when-error");
    type("year", "2000");
    expect(error()?.textContent).toBe("");
    expect(input("day").getAttribute("aria-describedby")).toBeNull();
  });

  it("names another max as a date in the UI language, and days that do not exist", async () => {
    await renderField({ initial: "2027-02-01", max: "2027-01-31", onChange: vi.fn() }, "en");
    const error = () => document.querySelector(".date-field .field-error")?.textContent;
    expect(error()).toBe("This date cannot be after 31 Jan 2027.");
    type("day", "30");
    expect(error()).toContain("There is no such day");
  });

  it("shows the caller's error on the same line", async () => {
    await renderField({ initial: "2027-1-", error: "日期不对", onChange: vi.fn() });
    expect(document.getElementById("when-error")?.textContent).toBe("日期不对");
  });
});
