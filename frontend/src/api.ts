import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

/** What the user types to register or edit a resident. */
export interface ResidentInput {
  name: string;
  id_number: string;
  phone: string;
  address?: string;
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

/** One resident in full; the ID number masked unless revealed. */
export interface ResidentView {
  id: string;
  name: string;
  gender: string;
  birth_date: string;
  id_number: string;
  revealed: boolean;
  phone: string;
  address: string;
  notes: string;
  created_at: number;
  conflicted_fields: string[];
}

export type FieldName = string;

export interface FieldError {
  field: FieldName;
  code: string;
  /** The catalog key of an application's form field or attachment slot. */
  key?: string;
}

/** The error shape every command answers with: translate by `code`, never by `message`. */
export interface UiError {
  code: string;
  message: string;
  fields?: FieldError[];
  failures?: number;
  wait_ms?: number;
}

/** Normalizes whatever a failed call threw into a UiError. */
export function toUiError(thrown: unknown): UiError {
  if (typeof thrown === "object" && thrown !== null && "code" in thrown) {
    const e = thrown as Partial<UiError>;
    if (typeof e.code === "string") {
      const out: UiError = {
        code: e.code,
        message: typeof e.message === "string" ? e.message : "",
        fields: Array.isArray(e.fields) ? e.fields : [],
      };
      if (typeof e.failures === "number") out.failures = e.failures;
      if (typeof e.wait_ms === "number") out.wait_ms = e.wait_ms;
      return out;
    }
  }
  return { code: "internal", message: String(thrown), fields: [] };
}

export interface StartState {
  enrollment: { server_url: string; name: string; role: string; committees: string[] } | null;
  has_pin: boolean;
  unlocked: boolean;
  volunteer: string;
  idle_lock_secs: number;
}

export interface SyncReport {
  sent_docs: number;
  received_docs: number;
  new_conflicts: { doc_id: string; kind: string; fields: string[] }[];
  blobs_sent: number;
  blobs_received: number;
}

export interface SyncProgress {
  phase: "upload" | "records" | "download";
  done: number;
  total: number;
}

export interface SyncState {
  online: boolean | null;
  progress: SyncProgress | null;
  running: boolean;
  last_error: string | null;
  last_report: SyncReport | null;
  unlocked: boolean;
  enrolled: boolean;
  pending_docs: number;
  last_sync_at: number | null;
  conflicts: number;
}

/** A text in both languages. */
export interface Text {
  "zh-CN": string;
  en: string;
}

export type FieldKind = "text" | "number" | "date" | "choice" | "bool" | "phone" | "id_number";

export interface FieldDef {
  key: string;
  type: FieldKind;
  label: Text;
  help?: Text | null;
  required: boolean;
  max_length?: number | null;
  min?: number | null;
  max?: number | null;
  options: { value: string; label: Text }[];
}

export type Sensitive = "face" | "health" | "disability" | "finances";

export interface AttachmentDef {
  key: string;
  label: Text;
  required: boolean;
  sensitive?: Sensitive | null;
}

export interface Service {
  code: string;
  version: number;
  name: Text;
  summary: Text;
  fields: FieldDef[];
  attachments: AttachmentDef[];
  steps: { title: Text; body: Text; fields: string[] }[];
}

export interface ServiceOffer {
  code: string;
  name: Text;
  summary: Text;
  eligible: boolean;
  unmet: Text[];
  to_confirm: Text[];
}

/** A value as records hold it. */
export type FieldValue =
  | { type: "text"; value: string }
  | { type: "bool"; value: boolean }
  | { type: "int"; value: number }
  | { type: "time"; value: number }
  | { type: "null" };

export interface Attachment {
  sha256: string;
  slot: string;
  name: string;
  mime: string;
  size: number;
  added_at: number;
}

export interface ReviewEvent {
  id: string;
  kind: "submitted" | "returned" | "approved" | "rejected" | "filed" | "consent";
  at: number;
  by: string;
  device: string;
  text: string;
  consent?: { data: Sensitive; agreed: boolean; signature: string };
}

export type Status = "draft" | "submitted" | "returned" | "approved" | "rejected" | "filed";

export interface ApplicationView {
  id: string;
  resident_id: string;
  resident_name: string;
  service: string;
  status: Status;
  fields: Record<string, FieldValue>;
  attachments: Attachment[];
  events: ReviewEvent[];
  conflicted_fields: string[];
  created_at: number;
}

export interface ApplicationRow {
  id: string;
  resident: string;
  resident_name: string;
  service: string;
  status: Status;
  conflicted: boolean;
  created_at: number;
  updated_at: number;
}

export interface AuthorizationInput {
  services: string[];
  valid_from: string;
  valid_to: string;
  signature: string;
}

export interface AuthorizationView extends AuthorizationInput {
  id: string;
  resident: string;
  volunteer: string;
  revoked: boolean;
  created_at: number;
}

export interface Author {
  device: string;
  volunteer: string;
  at: number;
  what: string;
}

export interface FieldConflict {
  field: string;
  values: { value: FieldValue; author: Author | null }[];
}

export interface ConflictedRecord {
  id: string;
  kind: "resident" | "application";
  resident_name: string;
  service: string | null;
  conflicts: FieldConflict[];
}

/** The receipt's words, in the window's language (values come from the device). */
export interface ReceiptLabels {
  title: string;
  resident: string;
  service: string;
  reference: string;
  date: string;
  helper: string;
  status: string;
  next: string;
  consents: string;
  status_text: string;
  consent_lines: string[];
  lang: string;
}

/** The commands of the Tauri shell. */
export interface Api {
  startState(): Promise<StartState>;
  enroll(serverUrl: string, code: string): Promise<StartState>;
  setPin(pin: string, volunteer: string | null): Promise<StartState>;
  unlock(pin: string): Promise<StartState>;
  lock(): Promise<void>;
  enterResidentMode(): Promise<void>;
  leaveResidentMode(pin: string): Promise<void>;
  recordConsent(id: string, data: string, agreed: boolean, signature: Uint8Array | null): Promise<void>;
  saveReceipt(id: string, labels: ReceiptLabels): Promise<string>;
  openReceipt(path: string): Promise<void>;
  /** Reads `text` aloud in Mandarin (or English); resolves when speaking has started. */
  speak(text: string, lang: string): Promise<void>;
  syncState(): Promise<SyncState>;
  syncNow(): Promise<SyncReport>;
  /** Calls `handler` after every sync that moved something; returns the unsubscribe. */
  onSynced(handler: () => void): () => void;
  searchResidents(query: string): Promise<ResidentSummary[]>;
  registerResident(input: ResidentInput): Promise<ResidentSummary>;
  updateResident(id: string, input: ResidentInput): Promise<ResidentSummary>;
  resident(id: string, reveal: boolean): Promise<ResidentView>;
  servicesFor(resident: string): Promise<ServiceOffer[]>;
  services(): Promise<Service[]>;
  authorizationsOf(resident: string): Promise<AuthorizationView[]>;
  recordAuthorization(resident: string, input: AuthorizationInput): Promise<string>;
  storeBlob(bytes: Uint8Array): Promise<string>;
  blob(sha256: string): Promise<ArrayBuffer>;
  attachFile(application: string, slot: string, name: string, mime: string, bytes: Uint8Array): Promise<string>;
  startApplication(resident: string, service: string): Promise<string>;
  application(id: string): Promise<ApplicationView>;
  setApplicationField(id: string, key: string, value: FieldValue): Promise<void>;
  submitApplication(id: string): Promise<Status>;
  listApplications(resident: string | null): Promise<ApplicationRow[]>;
  conflictedRecords(): Promise<ConflictedRecord[]>;
  resolveConflict(id: string, field: string, value: FieldValue): Promise<void>;
}

/**
 * Bytes as base64, the way files cross to the device: WebKitGTK's IPC carries no raw
 * bodies. Built in slices, since one call with millions of arguments overflows the stack.
 */
export function toBase64(bytes: Uint8Array): string {
  const SLICE = 0x8000;
  let binary = "";
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (thrown) {
    throw toUiError(thrown);
  }
}

export const tauriApi: Api = {
  startState: () => call("start_state"),
  enroll: (serverUrl, code) => call("enroll", { serverUrl, code }),
  setPin: (pin, volunteer) => call("set_pin", { pin, volunteer }),
  unlock: (pin) => call("unlock", { pin }),
  lock: () => call("lock"),
  enterResidentMode: () => call("enter_resident_mode"),
  leaveResidentMode: (pin) => call("leave_resident_mode", { pin }),
  speak: (text, lang) => call("speak", { text, lang }),
  saveReceipt: (id, labels) => call("save_receipt", { id, labels }),
  openReceipt: (path) => call("open_receipt", { path }),
  recordConsent: (id, data, agreed, signature) =>
    call("record_consent", { id, data, agreed, signature: signature ? toBase64(signature) : null }),
  syncState: () => call("sync_state"),
  syncNow: () => call("sync_now"),
  onSynced: (handler) => {
    const unlisten = listen("doorstep://synced", () => handler());
    return () => {
      void unlisten.then((f) => f());
    };
  },
  searchResidents: (query) => call("search_residents", { query }),
  registerResident: (input) => call("register_resident", { input }),
  updateResident: (id, input) => call("update_resident", { id, input }),
  resident: (id, reveal) => call("resident", { id, reveal }),
  servicesFor: (resident) => call("services_for", { resident }),
  services: () => call("services"),
  authorizationsOf: (resident) => call("authorizations_of", { resident }),
  recordAuthorization: (resident, input) => call("record_authorization", { resident, input }),
  storeBlob: (bytes) => call("store_blob", { base64: toBase64(bytes) }),
  blob: (sha256) => call("blob", { sha256 }),
  attachFile: (id, slot, name, mime, bytes) =>
    call("attach_file", { id, slot, name, mime, base64: toBase64(bytes) }),
  startApplication: (resident, service) => call("start_application", { resident, service }),
  application: (id) => call("application", { id }),
  setApplicationField: (id, key, value) => call("set_application_field", { id, key, value }),
  submitApplication: (id) => call("submit_application", { id }),
  listApplications: (resident) => call("list_applications", { resident }),
  conflictedRecords: () => call("conflicted_records"),
  resolveConflict: (id, field, value) => call("resolve_conflict", { id, field, value }),
};
