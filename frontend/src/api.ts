import { invoke } from "@tauri-apps/api/core";

/** What the user types to register a resident. */
export interface ResidentInput {
  name: string;
  id_number: string;
  phone: string;
}

/** A resident as the list shows them; personal numbers come masked from the device. */
export interface ResidentSummary {
  id: string;
  name: string;
  id_number_masked: string;
  phone_masked: string;
  /** Some field holds values written concurrently on different devices. */
  conflicted: boolean;
  created_at: number;
}

export type FieldName = "name" | "id_number" | "phone";

export interface FieldError {
  field: FieldName;
  code: string;
}

/** The error shape every command answers with: translate by `code`, never by `message`. */
export interface UiError {
  code: string;
  message: string;
  fields?: FieldError[];
}

/** Normalizes whatever a failed call threw into a UiError. */
export function toUiError(thrown: unknown): UiError {
  if (typeof thrown === "object" && thrown !== null && "code" in thrown) {
    const e = thrown as Partial<UiError>;
    if (typeof e.code === "string") {
      return {
        code: e.code,
        message: typeof e.message === "string" ? e.message : "",
        fields: Array.isArray(e.fields) ? e.fields : [],
      };
    }
  }
  return { code: "internal", message: String(thrown), fields: [] };
}

/** The commands of the Tauri shell. */
export interface Api {
  registerResident(input: ResidentInput): Promise<ResidentSummary>;
  listResidents(): Promise<ResidentSummary[]>;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (thrown) {
    throw toUiError(thrown);
  }
}

export const tauriApi: Api = {
  registerResident: (input) => call("register_resident", { input }),
  listResidents: () => call("list_residents"),
};
