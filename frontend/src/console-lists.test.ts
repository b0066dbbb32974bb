import { describe, expect, it } from "vitest";

import type { ApplicationRow, Author, DeviceView, FieldChange, ReviewEvent } from "./api";
import {
  changeText,
  countByStatus,
  deviceChoices,
  deviceName,
  entryCounts,
  eventOfChange,
  filterApplications,
  isEventChange,
  isStatus,
  shortId,
  sortDevices,
  visibleChanges,
  volunteerChoices,
} from "./console-lists";

function row(id: string, status: ApplicationRow["status"], service: string, updated: number, created = 0): ApplicationRow {
  return { id, resident: "r", resident_name: id, service, status, conflicted: false, created_at: created, updated_at: updated };
}

function device(id: string, name: string, label: string, lastSync: number | null, revoked: number | null = null): DeviceView {
  return {
    device_id: id,
    role: "volunteer",
    name,
    label,
    committees: ["c1"],
    enrolled_at: 1,
    revoked_at: revoked,
    last_sync_at: lastSync,
    key_fingerprint: "3f2a 91c0 7d4e 0b18",
    this_device: false,
    key_matches: true,
  };
}

describe("the applications list", () => {
  const rows = [
    row("a", "approved", "pension", 10),
    row("b", "submitted", "pension", 30),
    row("c", "approved", "meals", 20),
    row("d", "approved", "pension", 40),
    row("e", "draft", "pension", 40, 5),
  ];

  it("filters by status and service, the most recently changed first", () => {
    expect(filterApplications(rows, { status: "approved", service: "" }).map((r) => r.id)).toEqual(["d", "c", "a"]);
    expect(filterApplications(rows, { status: "approved", service: "pension" }).map((r) => r.id)).toEqual(["d", "a"]);
    expect(filterApplications(rows, { status: "", service: "pension" }).map((r) => r.id)).toEqual(["e", "d", "b", "a"]);
    expect(filterApplications(rows, { status: "rejected", service: "" })).toEqual([]);
  });

  it("does not reorder what it was given", () => {
    filterApplications(rows, { status: "", service: "" });
    expect(rows.map((r) => r.id)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("counts every status, for one service or all", () => {
    expect(countByStatus(rows, "")).toEqual({ draft: 1, submitted: 1, returned: 0, approved: 3, rejected: 0, filed: 0 });
    expect(countByStatus(rows, "meals")).toEqual({ draft: 0, submitted: 0, returned: 0, approved: 1, rejected: 0, filed: 0 });
  });

  it("knows the statuses", () => {
    expect(isStatus("filed")).toBe(true);
    expect(isStatus("consent")).toBe(false);
    expect(isStatus(null)).toBe(false);
  });
});

describe("devices by name", () => {
  const devices = [
    device("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11", "志愿者乙", "平板 2", 5),
    device("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e12", "志愿者甲", "平板 1", 9),
    device("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e13", "志愿者甲", "", null),
    device("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e14", " ", "", null),
  ];

  it("names a device by its person and label, an unknown one by a short id", () => {
    expect(deviceName(devices, "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11")).toBe("志愿者乙 · 平板 2");
    expect(deviceName(devices, "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e13")).toBe("志愿者甲");
    expect(deviceName(devices, "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e14")).toBe("0192f0c8…");
    expect(deviceName(devices, "ffffffff-0000-0000-0000-000000000000")).toBe("ffffffff…");
    expect(shortId("abc")).toBe("abc");
  });

  it("offers each person once as a volunteer filter", () => {
    expect(volunteerChoices(devices)).toEqual(["志愿者甲", "志愿者乙"].sort((a, b) => a.localeCompare(b, "zh-CN")));
    expect(volunteerChoices(devices, ["志愿者甲", "改过名的人", ""])).toEqual(
      ["志愿者甲", "志愿者乙", "改过名的人"].sort((a, b) => a.localeCompare(b, "zh-CN")),
    );
  });

  it("offers every device by name, same-named ones told apart by id", () => {
    const twins = [device("aaaaaaaa-1", "甲", "平板", 1), device("bbbbbbbb-2", "甲", "平板", 2), device("cccccccc-3", "乙", "电脑", 3)];
    const choices = deviceChoices(twins);
    expect(choices.map((c) => c.value).sort()).toEqual(["aaaaaaaa-1", "bbbbbbbb-2", "cccccccc-3"]);
    expect(choices.find((c) => c.value === "cccccccc-3")?.label).toBe("乙 · 电脑");
    expect(choices.find((c) => c.value === "aaaaaaaa-1")?.label).toBe("甲 · 平板 (aaaaaaaa…)");
  });

  it("lists devices in use first, newest sync first, never synced last, revoked after", () => {
    const list = [
      device("r-old", "撤甲", "", 50, 100),
      device("never", "从未", "", null),
      device("old", "旧", "", 10),
      device("r-new", "撤乙", "", 60, 200),
      device("new", "新", "", 90),
    ];
    expect(sortDevices(list).map((d) => d.device_id)).toEqual(["new", "old", "never", "r-new", "r-old"]);
    expect(list[0]?.device_id).toBe("r-old");
  });
});

describe("a log entry", () => {
  it("counts records and their changes apart", () => {
    const counts = entryCounts({
      received: [{ doc_id: "x", hashes: ["1", "2", "3", "4"] }],
      sent: [
        { doc_id: "y", hashes: ["5"] },
        { doc_id: "z", hashes: ["6", "7"] },
      ],
    });
    expect(counts).toEqual({ up: 1, upChanges: 4, down: 2, downChanges: 3 });
  });

  it("lists only fields that read differently before and after", () => {
    const fields: FieldChange[] = [
      { field: "emergency_contact", from: null, to: { type: "text", value: "" } },
      { field: "phone", from: { type: "text", value: "1" }, to: { type: "text", value: "2" } },
      { field: "signature", from: { type: "text", value: "sha-a" }, to: { type: "text", value: "sha-b" } },
      { field: "signature2", from: null, to: { type: "null" } },
    ];
    const read = (v: FieldChange["from"]) => (v && v.type === "text" && v.value ? "x" + v.value : "（空）");
    const shown = (f: FieldChange, side: "from" | "to") => (f.field.startsWith("signature") && f[side]?.type === "text" ? "（签名）" : read(f[side]));
    expect(visibleChanges(fields, shown).map((f) => f.field)).toEqual(["phone"]);
    const opaque = (field: string) => field.startsWith("signature");
    expect(visibleChanges(fields, shown, opaque).map((f) => f.field)).toEqual(["phone", "signature"]);
  });

  it("writes a new field's value alone, and a changed one as before → after", () => {
    const read = (v: FieldChange["from"]) => (v && v.type === "text" && v.value ? v.value : "（未填）");
    const added: FieldChange = { field: "address", from: null, to: { type: "text", value: "测试路1号" } };
    const changed: FieldChange = { field: "address", from: { type: "text", value: "测试路1号" }, to: { type: "text", value: "测试路2号" } };
    const emptied: FieldChange = { field: "address", from: { type: "text", value: "" }, to: { type: "text", value: "测试路3号" } };
    expect(changeText(added, (side) => read(added[side]))).toBe("测试路1号");
    expect(changeText(changed, (side) => read(changed[side]))).toBe("测试路1号 → 测试路2号");
    expect(changeText(emptied, (side) => read(emptied[side]))).toBe("（未填） → 测试路3号");
  });

  it("finds the event a decision's change recorded", () => {
    const author: Author = { device: "ab", volunteer: "测试主任", at: 1000, what: "returned", note: "" };
    const events: ReviewEvent[] = [
      { id: "1", kind: "submitted", at: 900, by: "志愿者甲", device: "cd", text: "" },
      { id: "2", kind: "returned", at: 1000, by: "别人", device: "ef", text: "不是这条" },
      { id: "3", kind: "returned", at: 1000, by: "测试主任", device: "ab", text: "账户号码少了一位" },
    ];
    expect(eventOfChange(events, author)?.text).toBe("账户号码少了一位");
    expect(eventOfChange(events, { ...author, at: 999 })).toBeNull();
    expect(eventOfChange(events, { ...author, what: "edit_application" })).toBeNull();
    expect(isEventChange({ what: "approved" })).toBe(true);
    expect(isEventChange({ what: "attach_file" })).toBe(false);
  });
});
