// The list of certifications to do: the most pressing first, a long one cut short
// until asked, each row opening the resident.
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { CertificationView } from "../api";
import { createI18n } from "../i18n";
import type { Route } from "./App";
import { CertificationList, SHOWN_AT_FIRST } from "./Certifications";

afterEach(cleanup);

/** A committee new to Doorstep: nobody's certification on record, so all are due. */
const due = (n: number): CertificationView => ({
  resident: `r${n}`,
  resident_name: `测试居民${n}`,
  committee: "c1",
  state: "due",
  to_visit: true,
  due_from: "2026-03-01",
  due_by: "2027-02-28",
  from_last: false,
  reference: "",
});

async function show(items: CertificationView[]) {
  const i18n = await createI18n("zh-CN");
  const navigate = vi.fn((_route: Route) => undefined);
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <CertificationList id="list" items={items} navigate={navigate} />
      </I18nextProvider>,
    );
  });
  return navigate;
}

describe("CertificationList", () => {
  it("shows the first ones of a long list, and all of it when asked", async () => {
    const items = Array.from({ length: SHOWN_AT_FIRST + 5 }, (_, i) => due(i));
    const navigate = await show(items);
    expect(document.querySelectorAll("#list li")).toHaveLength(SHOWN_AT_FIRST);
    const all = document.getElementById("list-all");
    expect(all?.textContent).toBe(`显示全部（${SHOWN_AT_FIRST + 5} 位）`);
    await act(async () => {
      fireEvent.click(all as Element);
    });
    expect(document.querySelectorAll("#list li")).toHaveLength(SHOWN_AT_FIRST + 5);
    expect(document.getElementById("list-all")).toBeNull();
    await act(async () => {
      fireEvent.click(document.querySelector("#list button[data-resident='r24']") as Element);
    });
    expect(navigate).toHaveBeenLastCalledWith({ name: "resident", id: "r24" });
  });

  it("says when there is nothing to do, and offers no button for a short list", async () => {
    await show([]);
    expect(document.body.textContent).toContain("现在没有需要办理的认证。");
    cleanup();
    await show([due(1)]);
    expect(document.getElementById("list-all")).toBeNull();
  });
});
