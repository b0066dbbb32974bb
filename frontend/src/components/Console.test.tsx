// The supervisor's overview, sync log and devices screens against a fake device.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ReactElement } from "react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ApplicationView, DeviceView, LogEntry, LogEvidence, LogFilter, Overview, RecordChanges, Service } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import type { Route } from "./App";
import { Devices } from "./Devices";
import { OverviewScreen } from "./Overview";
import { SyncLog } from "./SyncLog";
import { field, service } from "../testCatalog";

/** A moment given by its time in China (UTC+8), as the screens show it. */
const chinaTime = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  Date.UTC(y, mo, d, h - 8, mi, s);

afterEach(cleanup);

const text = (zh: string, en: string) => ({ "zh-CN": zh, en });
const PENSION: Service = service({
  code: "pension_certification",
  version: 1,
  name: text("养老金资格认证", "Pension certification"),
  summary: text("", ""),
  fields: [
    field({ key: "pension_account", type: "text", label: text("养老金账户", "Pension account"), required: true, options: [] }),
    field({ key: "emergency_contact", type: "text", label: text("紧急联系人", "Emergency contact"), required: false, options: [] }),
  ],
  attachments: [],
  steps: [],
});
const COMMITTEES = [{ id: "c1", name: "幸福社区" }];
/** Noon, local time: what is shown does not depend on the test machine's timezone. */
const NOON = chinaTime(2026, 11, 1, 12, 0);

const VOLUNTEER_DEVICE = "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11";
function device(id: string, name: string, label: string, lastSync: number | null, revoked: number | null = null): DeviceView {
  return {
    device_id: id,
    role: "volunteer",
    name,
    label,
    committees: ["c1"],
    enrolled_at: NOON - 86_400_000,
    revoked_at: revoked,
    last_sync_at: lastSync,
    key_fingerprint: "3f2a 91c0 7d4e 0b18",
    this_device: false,
    key_matches: true,
  };
}
const DEVICES = [
  device("0192f0c8-0000-7cc3-9a4e-000000000001", "旧志愿者", "平板 9", NOON - 5000, NOON),
  device(VOLUNTEER_DEVICE, "志愿者甲", "平板 1", NOON - 60_000),
  device("0192f0c8-0000-7cc3-9a4e-000000000002", "测试主任", "电脑", NOON),
];

async function show(element: (navigate: (r: Route) => void) => ReactElement) {
  const i18n = await createI18n("zh-CN");
  const navigate = vi.fn((_route: Route) => undefined);
  await act(async () => {
    render(<I18nextProvider i18n={i18n}>{element(navigate)}</I18nextProvider>);
  });
  return navigate;
}

async function click(el: Element | null) {
  expect(el).toBeTruthy();
  await act(async () => {
    fireEvent.click(el as Element);
  });
}

describe("OverviewScreen", () => {
  const overview: Overview = {
    counts: [
      { committee: "c1", service: PENSION.code, status: "approved", count: 2 },
      { committee: "c1", service: PENSION.code, status: "submitted", count: 1 },
    ],
    residents: [["c1", 3]],
    certification_counts: [
      { committee: "c1", state: "overdue", count: 1 },
      { committee: "c1", state: "due", count: 1 },
      { committee: "c1", state: "done", count: 4 },
    ],
    to_visit: [
      {
        resident: "r1",
        resident_name: "测试李甲",
        committee: "c1",
        state: "overdue",
        to_visit: true,
        due_from: "2026-10-01",
        due_by: "2026-10-31",
        from_last: true,
        last_certified: "2025-10-20",
        certified_by: "filed",
        reference: "GOV-2025-17",
      },
      {
        resident: "r2",
        resident_name: "测试王乙",
        committee: "c1",
        state: "due",
        to_visit: true,
        due_from: "2026-03-01",
        due_by: "2027-02-28",
        from_last: false,
        reference: "",
        application: "app-9",
        application_status: "submitted",
      },
    ],
  };
  const visitOverview = {
    counts: [{ committee: "c1", assignee: "m1", assignee_name: "测试志愿者", planned: 3, overdue: 1, done: 5 }],
    unvisited: [["c1", 12]] as [string, number][],
  };
  const assignVisits = vi.fn(async (residents: string[]) => residents.length);
  const visiting = {
    visitOverview: async () => visitOverview,
    visitors: async () => [{ id: "m1", name: "测试志愿者", role: "volunteer" as const }],
    assignVisits,
  };
  const api = fakeApi({
    overview: async () => overview,
    services: async () => [PENSION],
    consoleCommittees: async () => COMMITTEES,
    recordsAside: async () => [],
    ...visiting,
  });
  const cell = (status: string) =>
    document.querySelector(`#overview-counts tr[data-service='${PENSION.code}'] td[data-status='${status}']`);

  it("opens the list of the applications a count stands for", async () => {
    const navigate = await show((nav) => <OverviewScreen api={api} navigate={nav} generation={0} />);
    expect(cell("approved")?.textContent).toBe("2");
    await click(cell("approved")?.querySelector("button") ?? null);
    expect(navigate).toHaveBeenLastCalledWith({ name: "applications", status: "approved", service: PENSION.code });
    await click(cell("all")?.querySelector("button") ?? null);
    expect(navigate).toHaveBeenLastCalledWith({ name: "applications", status: null, service: PENSION.code });
    // Nothing to open behind a zero.
    expect(cell("draft")?.textContent).toBe("0");
    expect(cell("draft")?.querySelector("button")).toBeNull();
    expect(screen.getByRole("button", { name: "查看养老金资格认证中“已批准”的申请（2 份）" })).toBeTruthy();
  });

  it("counts each person's visits and plans the certification visits of those listed at once", async () => {
    await show((nav) => <OverviewScreen api={api} navigate={nav} generation={0} />);
    const row = document.querySelector("#overview-visit-counts tr[data-assignee='m1']");
    expect([...(row?.querySelectorAll("td") ?? [])].map((td) => td.textContent)).toEqual(["幸福社区", "测试志愿者", "3", "1", "5"]);
    expect(document.querySelector("#overview-unvisited")?.textContent).toBe("幸福社区：今年还没有走访过的居民 12 位");
    expect(document.querySelector("#overview-assign-all h4")?.textContent).toBe("把需要认证的 2 位居民一起安排走访");
    await act(async () => {
      fireEvent.change(document.getElementById("assign-all-assignee") as Element, { target: { value: "m1" } });
      for (const [part, value] of [["year", "2026"], ["month", "12"], ["day", "20"]]) {
        fireEvent.change(document.getElementById(`assign-all-due-${part}`) as Element, { target: { value } });
      }
    });
    await click(document.getElementById("assign-all-save"));
    expect(assignVisits).toHaveBeenCalledWith(
      overview.to_visit.map((c) => c.resident),
      { assignee: "m1", assignee_name: "测试志愿者", due: "2026-12-20", purpose: "certification", service: "" },
    );
    expect(document.querySelector("#overview-assign-all [role=status]")?.textContent).toBe("已安排 2 位居民的走访。");
  });

  it("shows changes kept apart for failing the check first, with whose they claim to be", async () => {
    const apart = fakeApi({
      overview: async () => overview,
      services: async () => [PENSION],
      consoleCommittees: async () => COMMITTEES,
      ...visiting,
      recordsAside: async () => [
        { doc_id: "app-1", kind: "application", committee: "c1", code: "four_eyes", changes: 1, at: NOON, authors: ["测试主任 (tablet 2)"] },
        { doc_id: "res-1", kind: "resident", committee: "c1", code: "record_malformed", changes: 2, at: NOON, authors: [] },
      ],
    });
    await show((nav) => <OverviewScreen api={apart} navigate={nav} generation={0} />);
    const card = document.querySelector("#overview-apart")?.textContent ?? "";
    expect(card).toContain("没有合并的修改");
    expect(card).toContain("提交申请的人自己审核了这份申请");
    expect(card).toContain("测试主任 (tablet 2)");
    // A record this tablet could not read is for the list of records not synced.
    expect(card).not.toContain("res-1");
  });

  it("shows no such card when nothing is kept apart", async () => {
    await show((nav) => <OverviewScreen api={api} navigate={nav} generation={0} />);
    expect(document.querySelector("#overview-apart")).toBeNull();
  });

  it("counts certifications by state and lists those to visit in words, each opening the resident", async () => {
    const navigate = await show((nav) => <OverviewScreen api={api} navigate={nav} generation={0} />);
    const counts = (state: string) =>
      document.querySelector(`#overview-certification-counts tr[data-committee='c1'] td[data-state='${state}']`)?.textContent;
    expect([counts("overdue"), counts("due"), counts("done")]).toEqual(["1", "1", "4"]);
    const lines = [...document.querySelectorAll("#overview-to-visit li")].map((li) => li.textContent ?? "");
    expect(lines[0]).toContain("测试李甲 · 幸福社区");
    expect(lines[0]).toContain("应在2026年10月认证，已逾期；上次 2025年10月20日，已归档（政府编号 GOV-2025-17）");
    expect(lines[0]).toContain("已逾期");
    expect(lines[1]).toContain("没有认证记录，请在2027年2月28日前认证，或记下上次认证的日期；申请：已提交");
    expect(lines[1]).toContain("待认证");
    await click(document.querySelector("#overview-to-visit button[data-resident='r2']"));
    expect(navigate).toHaveBeenLastCalledWith({ name: "resident", id: "r2" });
  });
});

describe("SyncLog", () => {
  const entry: LogEntry = {
    seq: 7,
    committee: "c1",
    device_id: VOLUNTEER_DEVICE,
    volunteer: "志愿者甲",
    time: NOON,
    sync_id: "s",
    received: [{ doc_id: "app-1", hashes: ["h1", "h2", "h3", "h4"] }],
    sent: [],
    conflicts: [],
    refused: [],
    prev_hash: "",
    hash: "",
    proof: [],
  };
  const author = { device: "actor", volunteer: "志愿者甲", at: NOON - 1000, what: "edit_application", note: "" };
  const records: RecordChanges[] = [
    {
      doc_id: "app-1",
      kind: "application",
      resident_name: "李秀英",
      service: PENSION.code,
      present: true,
      missing: [],
      changes: [
        {
          change: "h1",
          author,
          fields: [
            { field: "fields.emergency_contact", from: null, to: { type: "text", value: "" } },
            { field: "fields.pension_account", from: { type: "text", value: "6222" }, to: { type: "text", value: "62220" } },
          ],
          signed: "author",
          signer: "志愿者甲 (平板 1)",
        },
        {
          change: "h2",
          author: { ...author, volunteer: "测试主任", at: NOON - 500, what: "returned" },
          fields: [],
          signed: "missing",
          signer: "",
        },
      ],
    },
  ];
  const app: ApplicationView = {
    id: "app-1",
    resident_id: "r1",
    resident_name: "李秀英",
    service: PENSION.code,
    status: "returned",
    fields: {},
    attachments: [],
    events: [
      { id: "e1", kind: "submitted", at: NOON - 2000, by: "志愿者甲", device: "actor", text: "" },
      { id: "e2", kind: "returned", at: NOON - 500, by: "测试主任", device: "actor2", text: "账户号码少了一位" },
    ],
    conflicted_fields: [],
    created_at: NOON - 9000,
    typed: [],
    own_work: false,
    amendable: false,
    disputed: [],
    revealed: false,
    blockers: [],
    decisions: [],
    sensitive_kinds: [],
    consents: {},
  };

  function logApi(entries: LogEntry[] = [entry], evidence: LogEvidence[] = []) {
    return fakeApi({
      consoleCommittees: async () => COMMITTEES,
      services: async () => [PENSION],
      enrolledDevices: async () => DEVICES,
      chainStates: async () => [{ committee: "c1", entries: 7, broken: null }],
      logEvidence: async () => evidence,
      logPage: vi.fn(async (_filter: LogFilter) => ({ entries, checkpoints: [], next_before: null })),
      logEntryRecords: async () => records,
      application: vi.fn(async () => app),
    });
  }

  it("filters by a person and a device chosen by name", async () => {
    const api = logApi();
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    const volunteer = document.getElementById("log-volunteer") as HTMLSelectElement;
    const options = [...volunteer.options].map((o) => o.textContent);
    expect(options[0]).toBe("全部");
    expect(options.slice(1).sort()).toEqual(["志愿者甲", "旧志愿者", "测试主任"].sort());
    const deviceSelect = document.getElementById("log-device") as HTMLSelectElement;
    const deviceOption = [...deviceSelect.options].find((o) => o.value === VOLUNTEER_DEVICE);
    expect(deviceOption?.textContent).toBe("志愿者甲 · 平板 1");
    await act(async () => {
      fireEvent.change(volunteer, { target: { value: "志愿者甲" } });
      fireEvent.change(deviceSelect, { target: { value: VOLUNTEER_DEVICE } });
    });
    await click(document.getElementById("log-search"));
    expect(api.logPage).toHaveBeenLastCalledWith(expect.objectContaining({ volunteer: "志愿者甲", device: VOLUNTEER_DEVICE }));
  });

  it("counts records and their saves, names the device, and leaves out fields that did not change", async () => {
    const api = logApi();
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    expect(document.querySelector(".log-entry .row-detail")?.textContent).toContain("上传 1 条记录（保存过 4 次），下载 0 条记录");
    expect(document.querySelector(".log-entry .row-title")?.textContent).toContain("2026年12月1日 12:00");
    await click(document.querySelector(".log-entry-open"));
    expect(document.querySelector(".log-device")?.textContent).toBe("设备：志愿者甲 · 平板 1");
    expect(document.body.textContent).not.toContain(VOLUNTEER_DEVICE);
    const fields = [...document.querySelectorAll(".field-change")].map((e) => e.getAttribute("data-field"));
    expect(fields).toEqual(["fields.pension_account"]);
    expect(document.querySelector(".field-change")?.textContent).toBe("养老金账户：6222 → 62220");
  });

  it("says whose key signed each change and whether it verified", async () => {
    const api = logApi();
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    await click(document.querySelector(".log-entry-open"));
    const lines = [...document.querySelectorAll(".log-change .log-signer")].map((e) => e.textContent);
    expect(lines).toEqual(["✓ 签名已核验：志愿者甲 (平板 1)", "没有签名"]);
  });

  it("shows what the server refused of a sync, and why", async () => {
    const refused = { ...entry, refused: [{ doc_id: "0192f0c8-aaaa", code: "rule_forbidden", message: "m" }] };
    const api = logApi([refused]);
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    expect(document.querySelector(".log-entry .badge-refused")?.textContent).toBe("1 条被拒收");
    await click(document.querySelector(".log-entry-open"));
    expect(document.querySelector(".log-refused")?.textContent).toBe("记录 0192f0c8：做这处修改的人没有这个权限（例如志愿者自己审批）。");
  });

  it("says every entry was checked, and shows the evidence of a log that did not hold", async () => {
    const quiet = logApi();
    await show((nav) => <SyncLog api={quiet} navigate={nav} generation={0} />);
    expect(document.getElementById("log-proved")?.textContent).toBe("本页每条记录都已由本机用服务器签名的检查点核对过。");
    expect(document.getElementById("log-evidence")).toBeNull();
    cleanup();
    const held = "doorstep sync log c1\n5\nAAAA\n\n— doorstep-sync-log abc=\n";
    const offered = "doorstep sync log c1\n3\nBBBB\n\n— doorstep-sync-log def=\n";
    const api = logApi([entry], [
      { committee: "c1", kind: "shrank", reason: "committee c1's sync log: the log holds 3 entries, fewer than the 5 it signed before", held, offered, proof: [], time: NOON },
    ]);
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    const card = document.getElementById("log-evidence");
    expect(card?.querySelector("h3")?.textContent).toBe("服务器日志不一致的证据");
    expect(card?.textContent).toContain("fewer than the 5");
    expect(card?.querySelector(".evidence-kind")?.textContent).toBe("服务器的日志比它以前签名的短了：后面的记录被删掉了。");
    const notes = [...(card?.querySelectorAll(".evidence-note") ?? [])].map((e) => e.textContent);
    expect(notes).toEqual([held, offered]);
  });

  it("shows a return's comment beside its change", async () => {
    const api = logApi();
    await show((nav) => <SyncLog api={api} navigate={nav} generation={0} />);
    await click(document.querySelector(".log-entry-open"));
    expect(api.application).toHaveBeenCalledWith("app-1");
    const events = [...document.querySelectorAll(".log-event")];
    expect(events.map((e) => e.textContent)).toEqual(["退回意见：账户号码少了一位"]);
    expect(events[0]?.closest(".log-change")?.textContent).toContain("退回");
  });
});

describe("Devices", () => {
  function devicesApi() {
    return fakeApi({
      enrolledDevices: async () => DEVICES,
      consoleCommittees: async () => COMMITTEES,
      revokeDevice: vi.fn(async (id: string) => ({ ...DEVICES[1]!, device_id: id, revoked_at: NOON })),
    });
  }

  it("lists devices in use first, the latest sync first, revoked ones after", async () => {
    await show((nav) => <Devices api={devicesApi()} navigate={nav} generation={0} />);
    const order = [...document.querySelectorAll("#device-list .device")].map((e) => e.getAttribute("data-device"));
    expect(order).toEqual([DEVICES[2]?.device_id, VOLUNTEER_DEVICE, DEVICES[0]?.device_id]);
  });

  it("shows the fingerprint of the key each device was enrolled with", async () => {
    await show((nav) => <Devices api={devicesApi()} navigate={nav} generation={0} />);
    const card = document.querySelector(`.device[data-device='${VOLUNTEER_DEVICE}']`);
    expect(card?.querySelector(".key-fingerprint")?.textContent).toBe("3f2a 91c0 7d4e 0b18");
    expect(card?.textContent).toContain("设备密钥指纹");
  });

  it("warns when the key the server holds for this device is not its own", async () => {
    const mine = { ...DEVICES[1]!, this_device: true, key_matches: false };
    const api = fakeApi({ enrolledDevices: async () => [mine], consoleCommittees: async () => COMMITTEES });
    await show((nav) => <Devices api={api} navigate={nav} generation={0} />);
    expect(document.getElementById("device-key-mismatch")?.textContent).toContain("不一致");
  });

  it("warns that what the device has not uploaded since its last sync will never arrive", async () => {
    const api = devicesApi();
    await show((nav) => <Devices api={api} navigate={nav} generation={0} />);
    const card = document.querySelector(`.device[data-device='${VOLUNTEER_DEVICE}']`);
    await click(card?.querySelector(".revoke") ?? null);
    const warning = card?.querySelector(".confirm")?.textContent ?? "";
    expect(warning).toContain("志愿者甲 · 平板 1");
    expect(warning).toContain("上次同步是 2026年12月1日 11:59");
    expect(warning).toContain("永远不会到达");
    expect(api.revokeDevice).not.toHaveBeenCalled();
    // Only with the supervisor's PIN.
    const confirm = card?.querySelector(".revoke-confirm") as HTMLButtonElement | null;
    expect(confirm?.disabled).toBe(true);
    fireEvent.change(card?.querySelector(".revoke-pin") as HTMLInputElement, { target: { value: "975310" } });
    await click(confirm);
    expect(api.revokeDevice).toHaveBeenCalledWith(VOLUNTEER_DEVICE, "975310");
  });
});
