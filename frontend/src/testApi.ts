import type { Api } from "./api";

/** An Api whose every command fails loudly unless the test gives it. */
export function fakeApi(parts: Partial<Api>): Api {
  return new Proxy(parts as Api, {
    get(target, prop: string) {
      if (prop in target) return target[prop as keyof Api];
      if (prop === "onSynced") return () => () => undefined;
      return () => Promise.reject(new Error(`unexpected call: ${prop}`));
    },
  });
}
