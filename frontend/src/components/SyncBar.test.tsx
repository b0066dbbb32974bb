// The status line says what the volunteer can rely on: a device the server refuses is
// not "online", even though the server answers.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { SyncState } from "../api";
import { createI18n } from "../i18n";
import { SyncBar } from "./SyncBar";

afterEach(cleanup);

const STATE: SyncState = {
  online: true,
  progress: null,
  running: false,
  last_error: null,
  last_report: null,
  unlocked: true,
  enrolled: true,
  pending_docs: 2,
  last_sync_at: null,
  conflicts: 0,
  refused: 0,
  aside: 0,
};

async function show(sync: SyncState, onUnsent = vi.fn(), onAcceptLog = vi.fn(async (_pin: string) => undefined)) {
  render(
    <I18nextProvider i18n={await createI18n("zh-CN")}>
      <SyncBar sync={sync} onSync={vi.fn()} onConflicts={vi.fn()} onUnsent={onUnsent} onEnroll={vi.fn()} onAcceptLog={onAcceptLog} />
    </I18nextProvider>,
  );
  return screen.getByRole("status").textContent;
}

describe("SyncBar", () => {
  it("says online, offline, or that this device cannot sync", async () => {
    expect(await show(STATE)).toBe("在线");
    cleanup();
    expect(await show({ ...STATE, online: false })).toBe("离线");
    cleanup();
    expect(await show({ ...STATE, last_error: "device_revoked" })).toBe("不能同步");
    expect(document.querySelector("#sync-error")?.textContent).toContain("停用");
    expect(document.querySelector("#sync-state")?.className).toContain("is-offline");
  });

  it("stops over a log that did not hold, and goes on only with the PIN", async () => {
    const onAcceptLog = vi.fn(async (_pin: string) => undefined);
    expect(await show({ ...STATE, last_error: "server_log_untrusted" }, vi.fn(), onAcceptLog)).toBe("不能同步");
    expect(document.querySelector("#sync-now")).toBeNull();
    expect(document.querySelector("#sync-error")?.textContent).toContain("同步日志");
    await act(async () => fireEvent.click(screen.getByText("服务器已从备份恢复？")));
    expect(document.querySelector("#log-accept-explain")?.textContent).toContain("管理员");
    const confirm = document.querySelector<HTMLButtonElement>("#log-accept");
    expect(confirm?.disabled).toBe(true);
    await act(async () => {
      fireEvent.change(document.querySelector("#log-accept-pin")!, { target: { value: "2468" } });
    });
    await act(async () => fireEvent.click(confirm!));
    expect(onAcceptLog).toHaveBeenCalledWith("2468");
    cleanup();
    await show(STATE);
    expect(document.querySelector("#log-accept-open")).toBeNull();
  });

  it("counts the records that did not sync, and opens them", async () => {
    await show(STATE);
    expect(document.querySelector("#unsent-badge")).toBeNull();
    cleanup();
    const onUnsent = vi.fn();
    await show({ ...STATE, refused: 1, aside: 1 }, onUnsent);
    const badge = document.querySelector<HTMLButtonElement>("#unsent-badge");
    expect(badge?.textContent).toBe("2 条记录未同步");
    badge?.click();
    expect(onUnsent).toHaveBeenCalled();
  });
});
