// Resident mode offers read-aloud only where a voice is installed, and reads by itself
// when she needs it and the voice turns up after she arrived.
import { act, cleanup, render } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Api, ApplicationView, ResidentView, Service, StartState } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { ResidentMode } from "./ResidentMode";
import { applicationView, field, service } from "../testCatalog";

afterEach(cleanup);
beforeEach(() => window.localStorage.clear());

const T = (zh: string, en: string) => ({ "zh-CN": zh, en });
const PENSION: Service = service({
  code: "pension_certification",
  version: 1,
  name: T("养老金资格认证", "Pension certification"),
  summary: T("每年认证一次。", "Once a year."),
  fields: [],
  attachments: [],
  steps: [],
});
const VIEW: ApplicationView = applicationView({
  id: "a1",
  resident_id: "r1",
  resident_name: "测试李秀英",
  service: PENSION.code,
  status: "draft",
});
const START: StartState = {
  enrollment: { server_url: "http://127.0.0.1:1", name: "测试志愿者", role: "volunteer", committees: ["幸福社区"] },
  has_pin: true,
  unlocked: true,
  volunteer: "测试志愿者",
  idle_lock_secs: 600,
  members: [],
};

function person(vision: boolean): ResidentView {
  return {
    id: "r1",
    name: "测试李秀英",
    gender: "female",
    birth_date: "1940-06-15",
    id_number: "**************0021",
    revealed: false,
    phone: "",
    address: "",
    needs: { hearing: false, vision, mobility: false },
    emergency: { name: "", phone: "", relation: "" },
    notes: "",
    created_at: 1,
    conflicted_fields: [],
  };
}

async function show(api: Api) {
  const i18n = await createI18n("zh-CN");
  await act(async () => {
    render(
      <I18nextProvider i18n={i18n}>
        <ResidentMode api={api} start={START} id="a1" onLeave={() => undefined} />
      </I18nextProvider>,
    );
  });
}

function device(available: Promise<boolean>, vision: boolean, speak = vi.fn(async () => undefined)): Api {
  return fakeApi({
    application: async () => VIEW,
    services: async () => [PENSION],
    resident: async () => person(vision),
    readAloudAvailable: async () => available,
    speak,
    speaking: async () => true,
    stopSpeaking: async () => undefined,
  });
}

describe("read-aloud in resident mode", () => {
  it("is not offered where no voice is installed, and nothing about it shows", async () => {
    const speak = vi.fn(async () => undefined);
    await show(device(Promise.resolve(false), true, speak));
    expect(document.querySelector("h1")).toBeTruthy();
    expect(document.getElementById("rm-read")).toBeNull();
    expect(document.getElementById("rm-autoread")).toBeNull();
    expect(document.getElementById("rm-speech")?.textContent).toBe("");
    // Her poor eyesight asks for reading, but there is no voice: nothing is attempted.
    expect(speak).not.toHaveBeenCalled();
  });

  it("is offered with a voice, and reads by itself once the voice is found", async () => {
    let found: (yes: boolean) => void = () => undefined;
    const speak = vi.fn(async () => undefined);
    await show(device(new Promise((resolve) => (found = resolve)), true, speak));
    expect(document.getElementById("rm-read")).toBeNull();
    await act(async () => found(true));
    expect(document.getElementById("rm-read") ?? document.getElementById("rm-stop")).toBeTruthy();
    expect(document.getElementById("rm-autoread")?.getAttribute("aria-pressed")).toBe("true");
    expect(speak).toHaveBeenCalledTimes(1);
    expect(document.getElementById("rm-speech")?.textContent).toBe("正在朗读……");
  });
});

describe("numbers in resident mode", () => {
  it("reads a masked account as its last digits, in words", async () => {
    const pension: Service = {
      ...PENSION,
      fields: [field({ key: "pension_account", type: "text", label: T("养老金账户", "Pension account"), masked: true })],
      steps: [{ title: T("请看一下您的养老金信息", "Your pension"), body: T("如果不对，请告诉工作人员。", "Tell us if wrong."), fields: ["pension_account"] }],
    };
    const api = fakeApi({
      application: async () => ({ ...VIEW, fields: { pension_account: { type: "text", value: "************4444" } } }),
      services: async () => [pension],
      resident: async () => person(false),
      readAloudAvailable: async () => false,
    });
    await show(api);
    await act(async () => document.getElementById("rm-yes")?.click());
    const values = document.querySelector(".rm-values")?.textContent ?? "";
    expect(values).toContain("尾号 4444");
    expect(values).not.toContain("*");
  });
});
