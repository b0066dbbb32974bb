import { cleanup, render } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it } from "vitest";

import type { QualityRecord } from "../camera/session";
import type { Attachment, PhotoQuality } from "../generated/types";
import { createI18n } from "../i18n";
import { PhotoQualityNote } from "./PhotoQualityNote";

afterEach(cleanup);

const byHand: PhotoQuality = {
  source: "camera",
  auto: false,
  passed: ["noFace", "manyFaces", "tooDark", "tooBright", "moveBack", "faceScreen"],
  failed: ["comeCloser", "holdStill"],
  size: 0.212,
  yaw: -0.9,
  pitch: -7.2,
  roll: 2.6,
  brightness: 143.7,
  sharpness: 0.52,
  liveness: "skipped",
};

// What the camera's session makes is what the device checks (the generated type).
const fromSession: QualityRecord = byHand;
const toDevice: PhotoQuality = fromSession;

const photo = (quality: PhotoQuality | null, unreadable = false): Attachment => ({
  sha256: "ab",
  slot: "face_photo",
  name: "face_photo.jpg",
  mime: "image/jpeg",
  size: 1000,
  added_at: 0,
  quality,
  quality_unreadable: unreadable,
  stamp: null,
});

async function note(a: Attachment, lang: "zh-CN" | "en" = "zh-CN") {
  const i18n = await createI18n(lang);
  const { container } = render(
    <I18nextProvider i18n={i18n}>
      <PhotoQualityNote attachment={a} id="q" />
    </I18nextProvider>,
  );
  return container;
}

describe("PhotoQualityNote", () => {
  it("says a photo taken by hand, what did not hold, the liveness step and the figures", async () => {
    const text = (await note(photo(toDevice))).textContent ?? "";
    expect(text).toContain("手动拍摄，拍摄时未通过：脸太小、不够清晰");
    expect(text).toContain("本人做不到");
    expect(text).toContain("脸部大小 21%，亮度 144，清晰度 0.52");
    expect(text).toContain("左右转 -1°，上下 -7°，歪头 3°");
  });

  it("in English too", async () => {
    const text = (await note(photo({ ...byHand, auto: true, failed: [], liveness: "blink" }), "en")).textContent;
    expect(text).toContain("Taken by itself: every check passed");
    expect(text).toContain("Liveness: blinked");
  });

  it("a chosen photo says it was chosen, and what the checks found", async () => {
    const chosen = { ...byHand, source: "file" as const, liveness: "not_asked" as const };
    const failed = (await note(photo(chosen))).textContent ?? "";
    expect(failed).toContain("选择的照片，检查未通过：脸太小、不够清晰");
    expect(failed).toContain("没有做活体确认");
    const passed = await note(photo({ ...chosen, failed: [], passed: [...byHand.passed, ...byHand.failed] }));
    expect(passed.textContent).toContain("选择的照片：各项检查都通过");
    expect(passed.querySelector("[data-quality='file']")).not.toBeNull();
  });

  it("shows nothing for a file with no record and a warning for a record that does not read", async () => {
    expect((await note(photo(null))).textContent).toBe("");
    const warned = await note(photo(null, true));
    expect(warned.querySelector("[data-quality='unreadable']")?.textContent).toContain("无法读取");
  });

  it("a stamped copy says what the device stamped on it, and that the original is kept", async () => {
    const copy = { ...photo(null), stamp: { of: "ab", date: "2026-12-07", by: "测试志愿者" } };
    const text = (await note(copy)).querySelector("[data-quality='stamped']")?.textContent ?? "";
    expect(text).toBe("加了日期和工作人员姓名的副本（2026年12月7日 · 测试志愿者），原照片也保存着");
    const en = (await note(copy, "en")).textContent ?? "";
    expect(en).toContain("(7 Dec 2026 · 测试志愿者); the original is kept too");
  });
});
