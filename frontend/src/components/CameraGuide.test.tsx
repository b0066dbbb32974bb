import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createI18n } from "../i18n";
import { CameraGuide, cameraFailure } from "./CameraGuide";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function show(onClose = vi.fn()) {
  const i18n = await createI18n("zh-CN");
  render(
    <I18nextProvider i18n={i18n}>
      <CameraGuide mode="face" speak={vi.fn()} onPhoto={vi.fn()} onClose={onClose} />
    </I18nextProvider>,
  );
  return onClose;
}

describe("CameraGuide", () => {
  it("without a camera says so in words and offers only to close", async () => {
    vi.stubGlobal("navigator", { ...navigator, mediaDevices: undefined });
    const onClose = await show();
    const said = await screen.findByText("这台设备没有可用的摄像头，请用“选择照片”。");
    expect(said.getAttribute("data-reason")).toBe("none");
    expect(document.getElementById("camera-shutter")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "关闭摄像头" }));
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("a camera the window was refused says so", async () => {
    const getUserMedia = vi.fn().mockRejectedValue(new DOMException("denied", "NotAllowedError"));
    vi.stubGlobal("navigator", { ...navigator, mediaDevices: { getUserMedia } });
    await show();
    await waitFor(() =>
      expect(document.getElementById("camera-unavailable")?.getAttribute("data-reason")).toBe("refused"),
    );
    expect(getUserMedia).toHaveBeenCalledWith({
      video: { facingMode: "user", width: { ideal: 1280 } },
      audio: false,
    });
    expect(screen.getByText("摄像头没有获准打开，请用“选择照片”。")).toBeTruthy();
  });

  it("names each way the camera can fail", () => {
    expect(cameraFailure(new DOMException("x", "NotAllowedError"))).toBe("refused");
    expect(cameraFailure(new DOMException("x", "SecurityError"))).toBe("refused");
    expect(cameraFailure(new DOMException("x", "NotFoundError"))).toBe("none");
    expect(cameraFailure(new DOMException("x", "OverconstrainedError"))).toBe("none");
    expect(cameraFailure(new DOMException("x", "NotReadableError"))).toBe("failed");
    expect(cameraFailure(new Error("odd"))).toBe("failed");
    expect(cameraFailure("odd")).toBe("failed");
  });
});
