import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ApplicationRow, QueueItem, Service } from "./api";
import {
  DraftSaver,
  IdleTimer,
  addYears,
  countsTable,
  dayRange,
  displayValue,
  formSteps,
  percent,
  progressBar,
  queueByService,
  shortTime,
  todaysWork,
  settingsForNeeds,
  staffStepTitle,
  waitSeconds,
  ymd,
} from "./logic";
import { attachment, field, service } from "./testCatalog";

/** A moment given by its time in China (UTC+8), as the screens show it. */
const chinaTime = (y: number, mo: number, d: number, h: number, mi: number) => Date.UTC(y, mo, d, h - 8, mi);

const T = (zh: string) => ({ "zh-CN": zh, en: zh.toUpperCase() });

const SERVICE: Service = service({
  code: "pension_certification",
  version: 1,
  name: T("认证"),
  summary: T("s"),
  fields: [
    field({ key: "pension_type", type: "choice", label: T("类型"), required: true, options: [{ value: "resident", label: T("居民") }] }),
    field({ key: "account", type: "text", label: T("账户"), required: true, options: [] }),
    field({ key: "last", type: "date", label: T("上次"), required: false, options: [] }),
    field({ key: "years", type: "number", label: T("年数"), required: false, options: [] }),
  ],
  attachments: [
    attachment({ key: "face_photo", label: T("照片"), required: true, accepts: "photo" }),
    attachment({ key: "extra", label: T("其他"), required: false, accepts: "photo_or_pdf" }),
  ],
  steps: [
    { title: T("开始"), body: T("b"), fields: [] },
    { title: T("信息"), body: T("b"), fields: ["pension_type", "account"] },
    { title: T("照片"), body: T("b"), fields: ["face_photo"] },
    { title: T("其他"), body: T("b"), fields: ["last", "years", "extra"] },
    { title: T("结束"), body: T("b"), fields: [] },
  ],
});

describe("formSteps", () => {
  it("keeps the catalog's steps that name fields, fields apart from attachments", () => {
    const steps = formSteps(SERVICE);
    expect(steps.map((s) => s.title["zh-CN"])).toEqual(["信息", "照片", "其他"]);
    expect(steps[0]?.fields).toEqual(["pension_type", "account"]);
    expect(steps[1]?.attachments).toEqual(["face_photo"]);
    expect(steps[2]).toEqual({ title: T("其他"), fields: ["last", "years"], attachments: ["extra"] });
  });
});

describe("staffStepTitle", () => {
  it("names a step by what it asks for, not by the words said to the resident", () => {
    expect(staffStepTitle(SERVICE, ["pension_type", "account"], "zh-CN")).toBe("类型、账户");
    expect(staffStepTitle(SERVICE, ["pension_type", "face_photo"], "en")).toBe("类型, 照片".replace("类型", "类型".toUpperCase()).replace("照片", "照片".toUpperCase()));
    expect(staffStepTitle(SERVICE, ["no_such_key"], "zh-CN")).toBe("");
    const withNote = { ...SERVICE, fields: [{ ...SERVICE.fields[1]!, label: T("账户（银行卡号）") }] };
    expect(staffStepTitle(withNote, ["account"], "zh-CN")).toBe("账户");
  });
});

describe("displayValue", () => {
  it("shows choices by label and yes/no in words", () => {
    const yesNo = { yes: "是", no: "否" };
    expect(displayValue({ type: "text", value: "resident" }, SERVICE.fields[0], "zh-CN", yesNo)).toBe("居民");
    expect(displayValue({ type: "text", value: "resident" }, SERVICE.fields[0], "en", yesNo)).toBe("居民".toUpperCase());
    expect(displayValue({ type: "bool", value: true }, undefined, "zh-CN", yesNo)).toBe("是");
    expect(displayValue({ type: "null" }, undefined, "zh-CN", yesNo)).toBe("");
  });

  it("writes dates and times in the UI language", () => {
    const yesNo = { yes: "是", no: "否" };
    const date = { type: "text", value: "2026-12-01" } as const;
    expect(displayValue(date, SERVICE.fields[2], "zh-CN", yesNo)).toBe("2026年12月1日");
    expect(displayValue(date, SERVICE.fields[2], "en", yesNo)).toBe("1 Dec 2026");
    const at = chinaTime(2026, 11, 1, 5, 7);
    expect(displayValue({ type: "time", value: at }, undefined, "zh-CN", yesNo)).toBe("2026年12月1日 05:07");
    expect(shortTime(at, chinaTime(2026, 11, 1, 9, 0), "en")).toBe("05:07");
    expect(shortTime(at, chinaTime(2026, 11, 3, 9, 0), "en")).toBe("1 Dec 2026, 05:07");
  });
});

describe("todaysWork", () => {
  it("sorts applications into drafts, returned, awaiting review and recently decided", () => {
    const day = 24 * 3600 * 1000;
    const now = 100 * day;
    const row = (id: string, status: ApplicationRow["status"], updated = now): ApplicationRow => ({
      id,
      status,
      resident: "r",
      resident_name: "n",
      service: "s",
      conflicted: false,
      created_at: 0,
      updated_at: updated,
    });
    const work = todaysWork(
      [
        row("a", "draft"),
        row("b", "returned"),
        row("c", "submitted"),
        row("d", "approved", now - 3 * day),
        row("e", "rejected", now - day),
        row("f", "filed", now - 20 * day),
      ],
      now,
    );
    expect(work.drafts.map((r) => r.id)).toEqual(["a"]);
    expect(work.returned.map((r) => r.id)).toEqual(["b"]);
    expect(work.awaiting.map((r) => r.id)).toEqual(["c"]);
    // Newest first; one decided three weeks ago has been told already.
    expect(work.decided.map((r) => r.id)).toEqual(["e", "d"]);
  });
});

describe("dates and waits", () => {
  it("formats local dates and adds years, 29 Feb included", () => {
    expect(ymd(new Date(2026, 0, 5))).toBe("2026-01-05");
    expect(ymd(addYears(new Date(2024, 1, 29), 1))).toBe("2025-02-28");
    expect(waitSeconds(29_001)).toBe(30);
    expect(waitSeconds(-5)).toBe(0);
  });
});

describe("DraftSaver", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("saves each field's latest text within a second of the last keystroke", async () => {
    const saved: [string, string][] = [];
    const saver = new DraftSaver(async (k, v) => {
      saved.push([k, v]);
    }, 300);
    saver.typed("account", "6");
    saver.typed("account", "62");
    saver.typed("name", "张");
    await vi.advanceTimersByTimeAsync(200);
    saver.typed("account", "622");
    expect(saved).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(saved).toEqual([
      ["name", "张"],
      ["account", "622"],
    ]);
    expect(saver.dirty).toBe(false);
  });

  it("flush saves at once what is waiting", async () => {
    const save = vi.fn(async () => undefined);
    const saver = new DraftSaver(save, 10_000);
    saver.typed("account", "622");
    expect(saver.dirty).toBe(true);
    await saver.flush();
    expect(save).toHaveBeenCalledWith("account", "622");
    expect(saver.dirty).toBe(false);
  });

  it("keeps saving after one save failed", async () => {
    const save = vi
      .fn<(k: string, v: string) => Promise<void>>()
      .mockRejectedValueOnce(new Error("disk"))
      .mockResolvedValue(undefined);
    const saver = new DraftSaver(save, 10);
    saver.typed("a", "1");
    await vi.advanceTimersByTimeAsync(20);
    saver.typed("a", "2");
    await saver.flush();
    expect(save).toHaveBeenLastCalledWith("a", "2");
  });
});

describe("IdleTimer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires once after the idle time, and activity starts it again", () => {
    const onIdle = vi.fn();
    const idle = new IdleTimer(600_000, onIdle);
    vi.advanceTimersByTime(599_000);
    idle.activity();
    vi.advanceTimersByTime(599_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    idle.stop();
  });
});

describe("progressBar", () => {
  it("shows bytes as megabytes, and no value when the total is not known", () => {
    expect(progressBar({ phase: "upload", done: 1_572_864, total: 3_145_728 })).toEqual({
      value: 1_572_864,
      max: 3_145_728,
      doneMb: "1.5",
      totalMb: "3.0",
    });
    expect(progressBar({ phase: "records", done: 2, total: 0 }).value).toBeUndefined();
  });
});

describe("the supervisor's console", () => {
  const item = (id: string, service: string, at: number): QueueItem => ({
    id,
    service,
    resident: "r",
    resident_name: "测试",
    committee: "c1",
    submitted_by: "测试志愿者",
    submitted_at: at,
    age_days: 0,
    conflicted: false,
  });
  const service = (code: string) => ({ code }) as Service;

  it("groups the queue by service in catalog order, oldest first in each", () => {
    const groups = queueByService(
      [item("3", "b", 30), item("1", "a", 20), item("2", "b", 10), item("4", "zzz", 5)],
      [service("a"), service("b")],
    );
    expect(groups.map(([code, list]) => [code, list.map((i) => i.id)])).toEqual([
      ["a", ["1"]],
      ["b", ["2", "3"]],
      ["zzz", ["4"]],
    ]);
  });

  it("turns a day range into times, whole days, open where empty", () => {
    const range = dayRange("2026-11-01", "2026-11-02");
    // Days in China: 1 November begins at 16:00 UTC on 31 October.
    expect(range.from).toBe(Date.UTC(2026, 9, 31, 16));
    expect(range.to).toBe(Date.UTC(2026, 10, 2, 16));
    expect(dayRange("", "nonsense")).toEqual({ from: null, to: null });
  });

  it("lays the overview's counts out per committee and service", () => {
    const rows = countsTable([
      { committee: "c2", service: "s", status: "draft", count: 1 },
      { committee: "c1", service: "s", status: "draft", count: 2 },
      { committee: "c1", service: "s", status: "approved", count: 3 },
    ]);
    expect(rows).toEqual([
      { committee: "c1", service: "s", byStatus: { draft: 2, approved: 3 }, total: 5 },
      { committee: "c2", service: "s", byStatus: { draft: 1 }, total: 1 },
    ]);
  });

  it("gives a percentage only when the total is known", () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(12, 10)).toBe(100);
    expect(percent(0, 0)).toBeUndefined();
  });
});

describe("settingsForNeeds", () => {
  it("opens resident mode to suit the resident's needs", () => {
    const usual = { size: 1, autoRead: false };
    expect(settingsForNeeds({ hearing: false, vision: true }, usual)).toEqual({ size: 2, autoRead: true });
    expect(settingsForNeeds({ hearing: true, vision: false }, usual)).toEqual({ size: 2, autoRead: false });
    expect(settingsForNeeds({ hearing: false, vision: false }, usual)).toEqual(usual);
  });
});
