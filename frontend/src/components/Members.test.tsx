// A tablet shared by several people: each unlocks as themselves, one the office removed
// cannot, and another is added with their own code and PIN.
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { MemberView, StartState } from "../api";
import { createI18n } from "../i18n";
import { fakeApi } from "../testApi";
import { Members } from "./Members";
import { EnrollAgainScreen, UnlockScreen } from "./StartScreens";

afterEach(cleanup);

const A: MemberView = { id: "dev-a", name: "测试志愿者甲", role: "volunteer", has_pin: true, removed: false, active: false };
const B: MemberView = { id: "dev-b", name: "测试志愿者乙", role: "volunteer", has_pin: true, removed: false, active: true };
const C: MemberView = { id: "dev-c", name: "测试志愿者丙", role: "volunteer", has_pin: true, removed: true, active: false };

const START: StartState = {
  enrollment: null,
  has_pin: true,
  unlocked: true,
  volunteer: "测试志愿者甲",
  members: [A, B, C],
  idle_lock_secs: 600,
};

describe("UnlockScreen on a shared tablet", () => {
  it("lists who may unlock, starts with whoever was at work, and unlocks as the one chosen", async () => {
    const unlock = vi.fn(async () => START);
    const onDone = vi.fn();
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <UnlockScreen api={fakeApi({ unlock })} onDone={onDone} volunteer="测试志愿者乙" members={[A, B, C]} />
      </I18nextProvider>,
    );
    const radios = await screen.findAllByRole("radio");
    expect(radios.map((r) => (r as HTMLInputElement).value)).toEqual(["dev-a", "dev-b", "dev-c"]);
    expect((radios[1] as HTMLInputElement).checked).toBe(true);
    expect((radios[2] as HTMLInputElement).disabled).toBe(true);
    expect(document.querySelector(".member.removed")?.textContent).toContain("已停用");
    fireEvent.click(radios[0]!);
    expect(document.body.textContent).toContain("测试志愿者甲，请输入您的密码。");
    fireEvent.change(document.querySelector("#pin-unlock")!, { target: { value: "135790" } });
    fireEvent.click(document.querySelector("#pin-unlock-submit")!);
    await vi.waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(unlock).toHaveBeenCalledWith("135790", "dev-a");
  });

  it("keeps each person's wait: choosing another and back does not end it", async () => {
    const unlock = vi.fn(async () => {
      throw { code: "pin_wait", message: "", fields: [], wait_ms: 30_000 };
    });
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <UnlockScreen api={fakeApi({ unlock })} onDone={vi.fn()} volunteer="测试志愿者乙" members={[A, B]} />
      </I18nextProvider>,
    );
    const radios = (await screen.findAllByRole("radio")) as HTMLInputElement[];
    fireEvent.change(document.querySelector("#pin-unlock")!, { target: { value: "000000" } });
    fireEvent.click(document.querySelector("#pin-unlock-submit")!);
    await screen.findByText(/请等 30 秒/);
    const submit = document.querySelector("#pin-unlock-submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.click(radios[0]!);
    expect(submit.disabled).toBe(false);
    expect(document.querySelector("#pin-error")).toBeNull();
    fireEvent.click(radios[1]!);
    expect(submit.disabled).toBe(true);
    expect(document.querySelector("#pin-error")?.textContent).toMatch(/请等 (29|30) 秒/);
  });

  it("says so when the one at work was removed, and offers someone else", async () => {
    const removed = { ...B, removed: true };
    render(
      <I18nextProvider i18n={await createI18n("en")}>
        <UnlockScreen api={fakeApi({})} onDone={vi.fn()} volunteer="测试志愿者乙" members={[A, removed]} idleSecs={600} />
      </I18nextProvider>,
    );
    const notice = await screen.findByText(/The office removed 测试志愿者乙/);
    expect(notice.id).toBe("member-removed");
    expect(document.querySelector("#pin-idle-locked")).toBeNull();
    const radios = screen.getAllByRole("radio") as HTMLInputElement[];
    expect(radios[0]?.checked).toBe(true);
  });
});

describe("EnrollAgainScreen", () => {
  it("lets the first person enroll a tablet whose people were all removed, with her PIN and a new code", async () => {
    let tries = 0;
    const enrollAgain = vi.fn(async () => {
      tries += 1;
      if (tries === 1) throw { code: "pin_wrong", message: "", fields: [], failures: 1, wait_ms: 0 };
      return START;
    });
    const onDone = vi.fn();
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <EnrollAgainScreen api={fakeApi({ enrollAgain })} onDone={onDone} first="测试志愿者甲" />
      </I18nextProvider>,
    );
    expect((await screen.findByText(/这台平板已被停用/)).id).toBe("enroll-again-title");
    expect(document.querySelector("#all-removed")?.textContent).toContain("测试志愿者甲可以重新登记");
    const fill = (pin: string) => {
      fireEvent.change(document.querySelector("#enroll-again-code")!, { target: { value: " ABCD-EFGH-JKMN " } });
      fireEvent.change(document.querySelector("#enroll-again-server")!, { target: { value: "https://127.0.0.1:8443 " } });
      fireEvent.change(document.querySelector("#enroll-again-pin")!, { target: { value: pin } });
      fireEvent.click(document.querySelector("#enroll-again-submit")!);
    };
    fill("000000");
    expect((await screen.findByText(/密码不对/)).id).toBe("enroll-again-error");
    expect((document.querySelector("#enroll-again-pin") as HTMLInputElement).value).toBe("");
    fill("135790");
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledWith(START));
    expect(enrollAgain).toHaveBeenLastCalledWith("135790", "https://127.0.0.1:8443", "ABCD-EFGH-JKMN");
  });

  it("counts down the wait earned by wrong PINs before the next try", async () => {
    const enrollAgain = vi.fn(async () => {
      throw { code: "pin_wait", message: "", fields: [], wait_ms: 30_000 };
    });
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <EnrollAgainScreen api={fakeApi({ enrollAgain })} onDone={vi.fn()} first="测试志愿者甲" />
      </I18nextProvider>,
    );
    fireEvent.change(await screen.findByLabelText(/测试志愿者甲/), { target: { value: "000000" } });
    fireEvent.click(document.querySelector("#enroll-again-submit")!);
    expect((await screen.findByText(/请等 30 秒/)).id).toBe("enroll-again-error");
    expect((document.querySelector("#enroll-again-submit") as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("Members", () => {
  it("lists the people and adds one with a code and a PIN typed twice", async () => {
    const addMember = vi.fn(async () => [A, B, { ...C, id: "dev-d", name: "测试志愿者丁", removed: false }]);
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <Members api={fakeApi({ members: async () => [A, B], addMember })} navigate={vi.fn()} generation={0} />
      </I18nextProvider>,
    );
    await screen.findByText("测试志愿者乙");
    expect(document.querySelector("[data-member='dev-b']")?.textContent).toContain("正在使用");
    fireEvent.change(document.querySelector("#member-text")!, { target: { value: " ABCD-EFGH-JKMN " } });
    fireEvent.change(document.querySelector("#member-pin")!, { target: { value: "246802" } });
    fireEvent.change(document.querySelector("#member-pin-again")!, { target: { value: "246803" } });
    fireEvent.click(document.querySelector("#member-add-submit")!);
    expect((await screen.findByText("两次输入的密码不一样，请重新输入。")).id).toBe("member-error");
    expect(addMember).not.toHaveBeenCalled();
    fireEvent.change(document.querySelector("#member-pin-again")!, { target: { value: "246802" } });
    fireEvent.click(document.querySelector("#member-add-submit")!);
    expect((await screen.findByText(/已添加测试志愿者丁/)).id).toBe("member-added");
    expect(addMember).toHaveBeenCalledWith("ABCD-EFGH-JKMN", "246802");
    expect(document.querySelectorAll("#member-list li")).toHaveLength(3);
  });
});

describe("Members for a supervisor at work", () => {
  it("adds a volunteer by name", async () => {
    const boss: MemberView = { ...A, id: "dev-s", name: "测试主任", role: "supervisor", active: true };
    const addMemberByName = vi.fn(async () => [boss, { ...A, id: "dev-e", name: "测试志愿者戊" }]);
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <Members api={fakeApi({ members: async () => [boss], addMemberByName })} navigate={vi.fn()} generation={0} />
      </I18nextProvider>,
    );
    await screen.findByText("主管直接添加志愿者");
    fireEvent.change(document.querySelector("#member-by-name-text")!, { target: { value: "测试志愿者戊" } });
    fireEvent.change(document.querySelector("#member-by-name-pin")!, { target: { value: "246802" } });
    fireEvent.change(document.querySelector("#member-by-name-pin-again")!, { target: { value: "246802" } });
    fireEvent.click(document.querySelector("#member-by-name-add-submit")!);
    expect((await screen.findByText(/已添加测试志愿者戊/)).id).toBe("member-by-name-added");
    expect(addMemberByName).toHaveBeenCalledWith("测试志愿者戊", "246802");
  });

  it("is not offered to a volunteer", async () => {
    render(
      <I18nextProvider i18n={await createI18n("zh-CN")}>
        <Members api={fakeApi({ members: async () => [B] })} navigate={vi.fn()} generation={0} />
      </I18nextProvider>,
    );
    await screen.findByText("测试志愿者乙");
    expect(document.querySelector("#member-by-name-add")).toBeNull();
    expect(document.querySelector("#member-add")).not.toBeNull();
  });
});
