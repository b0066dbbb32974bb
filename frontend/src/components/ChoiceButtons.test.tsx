import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ChoiceButtons } from "./ChoiceButtons";

afterEach(cleanup);

const OPTIONS = [
  { value: "true", label: "是" },
  { value: "false", label: "否" },
];

function Harness({ onChoose, initial = "" }: { onChoose: (v: string) => void; initial?: string }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <span id="q-label">本人住在登记的地址</span>
      <ChoiceButtons
        id="field-q"
        options={OPTIONS}
        value={value}
        labelledBy="q-label"
        onChoose={(v) => {
          setValue(v);
          onChoose(v);
        }}
      />
    </>
  );
}

describe("ChoiceButtons", () => {
  it("is a named radio group of large buttons, none chosen at first", () => {
    render(<Harness onChoose={vi.fn()} />);
    const group = screen.getByRole("radiogroup", { name: "本人住在登记的地址" });
    expect(group.id).toBe("field-q");
    const radios = screen.getAllByRole("radio");
    expect(radios.map((r) => r.id)).toEqual(["field-q-true", "field-q-false"]);
    expect(radios.map((r) => r.getAttribute("data-value"))).toEqual(["true", "false"]);
    expect(radios.map((r) => r.getAttribute("aria-checked"))).toEqual(["false", "false"]);
    expect(radios.map((r) => r.tabIndex)).toEqual([0, -1]);
    expect(radios.every((r) => r.getAttribute("type") === "button")).toBe(true);
  });

  it("a tap chooses, shown by a check mark as well as by colour", () => {
    const onChoose = vi.fn();
    render(<Harness onChoose={onChoose} />);
    fireEvent.click(screen.getByRole("radio", { name: "否" }));
    expect(onChoose).toHaveBeenCalledWith("false");
    const chosen = screen.getByRole("radio", { checked: true });
    expect(chosen.id).toBe("field-q-false");
    expect(chosen.textContent).toBe("✓否");
    expect(screen.getByRole("radio", { name: "是" }).textContent).toBe("是");
    expect(chosen.tabIndex).toBe(0);
  });

  it("arrow keys move and choose", () => {
    const onChoose = vi.fn();
    render(<Harness onChoose={onChoose} initial="true" />);
    const yes = screen.getByRole("radio", { name: /是/ });
    fireEvent.keyDown(yes, { key: "ArrowRight" });
    expect(onChoose).toHaveBeenLastCalledWith("false");
    expect(document.activeElement?.id).toBe("field-q-false");
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowRight" });
    expect(onChoose).toHaveBeenLastCalledWith("true");
  });
});
