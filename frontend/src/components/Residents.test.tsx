// The residents screen: a supervisor plans the check-up visits of the residents a
// search found; a volunteer is not offered it.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ResidentSummary } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { ResidentsScreen } from "./Residents";

afterEach(cleanup);

const FOUND: ResidentSummary[] = ["r1", "r2", "r3"].map((id, i) => ({
  id,
  name: `测试张${i}`,
  id_number_masked: "**************0011",
  phone_masked: "",
  conflicted: false,
  created_at: 1_780_272_000_000 + i,
}));

async function show(supervisor: boolean, assignVisits = vi.fn(async (r: string[]) => r.length)) {
  const api = fakeApi({
    searchResidents: async (q: string) => (q ? FOUND : []),
    visitors: async () => [{ id: "m1", name: "测试志愿者", role: "volunteer" as const }],
    assignVisits,
  });
  render(
    <I18nextProvider i18n={await createI18n("zh-CN")}>
      <ResidentsScreen api={api} navigate={vi.fn()} generation={0} supervisor={supervisor} />
    </I18nextProvider>,
  );
  await act(async () => {
    fireEvent.change(document.getElementById("resident-search") as Element, { target: { value: "zhang" } });
  });
  await screen.findByText("测试张2");
  return assignVisits;
}

describe("ResidentsScreen", () => {
  it("lets a supervisor plan the check-up visits of the residents found", async () => {
    const assignVisits = await show(true);
    expect(document.querySelector("#residents-assign summary")?.textContent).toBe("为找到的 3 位居民安排探访");
    await screen.findByRole("option", { name: /测试志愿者/ });
    await act(async () => {
      fireEvent.change(document.getElementById("residents-assign-all-assignee") as Element, { target: { value: "m1" } });
      for (const [part, value] of [["year", "2026"], ["month", "12"], ["day", "21"]]) {
        fireEvent.change(document.getElementById(`residents-assign-all-due-${part}`) as Element, { target: { value } });
      }
    });
    await act(async () => {
      fireEvent.click(document.getElementById("residents-assign-all-save") as Element);
    });
    expect(assignVisits).toHaveBeenCalledWith(["r1", "r2", "r3"], {
      assignee: "m1",
      assignee_name: "测试志愿者",
      due: "2026-12-21",
      purpose: "checkup",
      service: "",
    });
    expect(document.querySelector("#residents-assign-all [role=status]")?.textContent).toBe("已安排 3 位居民的走访。");
  });

  it("does not offer it to a volunteer", async () => {
    await show(false);
    expect(document.querySelector("#residents-assign")).toBeNull();
  });
});
