import { invoke } from "@tauri-apps/api/core";
import type { QualityRecord } from "./camera/session";
import { listen } from "@tauri-apps/api/event";

// The types of what the device sends, generated from the Rust types
// (sync/device/tests/contract.rs keeps the file current), used here and re-exported.
import type {
  ApplicationRow,
  AsideView,
  ApplicationView,
  Assignment,
  AuthorizationInput,
  AuthorizationView,
  CertificationView,
  ChainState,
  Committee,
  ConflictedRecord,
  Decision,
  DeviceInfo,
  DeviceView,
  Event,
  ExportFilter,
  Exported,
  FieldValue,
  Format,
  ImportReport,
  LogEntry,
  LogEvidence,
  LogFilter,
  LogPage,
  MemberView,
  OutcomeInput,
  Overview,
  PlanView,
  QueueItem,
  ReceiptLabels,
  RecordChanges,
  RefusedView,
  ResidentInput,
  ResidentPatch,
  ResidentSummary,
  ResidentView,
  RosterLayout,
  RosterPreview,
  Service,
  ServiceOffer,
  StartState,
  Status,
  SyncReport,
  SyncState,
  TaskProgress,
  UiError,
  VisitOverview,
  VisitRow,
  Visitor,
} from "./generated/types";
import { ERROR_CODES } from "./generated/types";

export type * from "./generated/types";
/** One event of an application's review. */
export type ReviewEvent = Event;
/** A roster or export file's format. */
export type FileFormat = Format;

export type FieldName = string;

/** Normalizes whatever a failed call threw into a UiError. */
export function toUiError(thrown: unknown): UiError {
  if (typeof thrown === "object" && thrown !== null && "code" in thrown) {
    const e = thrown as Partial<UiError>;
    if (typeof e.code === "string") {
      // An error from outside this window's code: a code it has no text for is internal.
      const known = (ERROR_CODES as readonly string[]).includes(e.code);
      const out: UiError = {
        code: known ? e.code : "internal",
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

/** The commands of the Tauri shell. */
export interface Api {
  startState(): Promise<StartState>;
  enroll(serverUrl: string, code: string): Promise<StartState>;
  setPin(pin: string, volunteer: string | null): Promise<StartState>;
  /** Unlocks as `member` (their id; empty: the first person) with their PIN. */
  unlock(pin: string, member: string): Promise<StartState>;
  /** A tablet whose people were all removed, enrolled anew by its first person (her PIN). */
  enrollAgain(pin: string, serverUrl: string, code: string): Promise<StartState>;
  /** The people who may unlock this tablet. */
  members(): Promise<MemberView[]>;
  /** Adds a person with their own one-time code and PIN; the people afterwards. */
  addMember(code: string, pin: string): Promise<MemberView[]>;
  /** A supervisor at work adds a volunteer by name (the server makes the code). */
  addMemberByName(name: string, pin: string): Promise<MemberView[]>;
  lock(): Promise<void>;
  enterResidentMode(): Promise<void>;
  leaveResidentMode(pin: string): Promise<void>;
  recordConsent(id: string, data: string, agreed: boolean, signature: Uint8Array | null): Promise<void>;
  saveReceipt(id: string, labels: ReceiptLabels): Promise<string>;
  openReceipt(path: string): Promise<void>;
  /** Reads `text` aloud in Mandarin (or English); resolves when speaking has started. */
  speak(text: string, lang: string): Promise<void>;
  stopSpeaking(): Promise<void>;
  /** Whether a voice for `lang` is installed, so read-aloud can be offered at all. */
  readAloudAvailable(lang: string): Promise<boolean>;
  /** Whether read-aloud is still speaking. */
  speaking(): Promise<boolean>;
  syncState(): Promise<SyncState>;
  syncNow(): Promise<SyncReport>;
  /** Records the server refused, each with why (they wait here until changed). */
  refusedRecords(): Promise<RefusedView[]>;
  /** Records received that this device could not store, set aside. */
  recordsAside(): Promise<AsideView[]>;
  /** Every time the server's sync log did not hold against what this device held. */
  logEvidence(): Promise<LogEvidence[]>;
  /** Syncs again after the server's log did not hold (a restore): the PIN confirms it. */
  acceptServerLog(pin: string): Promise<void>;
  /** Calls `handler` after every sync that moved something; returns the unsubscribe. */
  onSynced(handler: () => void): () => void;
  searchResidents(query: string): Promise<ResidentSummary[]>;
  registerResident(input: ResidentInput): Promise<ResidentSummary>;
  updateResident(id: string, edit: ResidentPatch): Promise<ResidentSummary>;
  /** A resident; ID number and phones masked unless the right `pin` is given. */
  resident(id: string, pin: string | null): Promise<ResidentView>;
  servicesFor(resident: string): Promise<ServiceOffer[]>;
  services(): Promise<Service[]>;
  authorizationsOf(resident: string): Promise<AuthorizationView[]>;
  recordAuthorization(resident: string, input: AuthorizationInput): Promise<string>;
  storeBlob(bytes: Uint8Array): Promise<string>;
  blob(sha256: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Attaches a file; the device judges its type from the bytes. */
  /** Attaches a file; a photo from the guided camera comes with its quality record. */
  attachFile(
    application: string,
    slot: string,
    name: string,
    bytes: Uint8Array,
    quality?: QualityRecord,
  ): Promise<string>;
  startApplication(resident: string, service: string): Promise<string>;
  /** An application; personal numbers masked unless the right `pin` is given. */
  application(id: string, pin?: string | null): Promise<ApplicationView>;
  setApplicationField(id: string, key: string, value: FieldValue): Promise<void>;
  /** Saves a field's text exactly as typed; resolves to its problem's code, or null. */
  typeApplicationField(id: string, key: string, text: string): Promise<string | null>;
  removeAttachment(id: string, sha256: string): Promise<void>;
  submitApplication(id: string): Promise<Status>;
  listApplications(resident: string | null): Promise<ApplicationRow[]>;
  /** Residents whose yearly pension certification needs doing: due or overdue. */
  certificationsToVisit(): Promise<CertificationView[]>;
  /** The visits assigned to this device's user, by due date then address. */
  myVisits(offset: number, limit: number): Promise<VisitRow[]>;
  /** A resident's visit plan, or null when none was made. */
  visitPlan(resident: string): Promise<PlanView | null>;
  /** Who visits may be assigned to. */
  visitors(): Promise<Visitor[]>;
  assignVisit(resident: string, assignment: Assignment): Promise<string>;
  recordVisitOutcome(resident: string, input: OutcomeInput): Promise<void>;
  /** Assigns the visits of several residents alike; resolves to how many. */
  assignVisits(residents: string[], assignment: Assignment): Promise<number>;
  /** Visits per person and committee, and residents nobody visited this year. */
  visitOverview(): Promise<VisitOverview>;
  /** This device's user's visits as a large-print PDF in the exports folder. */
  printVisitList(labels: Record<string, string>, lang: string): Promise<Exported>;
  /** Records in conflict; personal numbers whole only with the PIN. */
  conflictedRecords(pin: string | null): Promise<ConflictedRecord[]>;
  resolveConflict(id: string, field: string, choice: string, note: string): Promise<void>;
  // The supervisor's console.
  consoleCommittees(): Promise<Committee[]>;
  logPage(filter: LogFilter): Promise<LogPage>;
  logEntryRecords(entry: LogEntry): Promise<RecordChanges[]>;
  chainStates(): Promise<ChainState[]>;
  enrolledDevices(): Promise<DeviceView[]>;
  /** Revokes a lost device; the supervisor's PIN confirms it. */
  revokeDevice(deviceId: string, pin: string): Promise<DeviceInfo>;
  reviewQueue(): Promise<QueueItem[]>;
  recordReview(id: string, decision: Decision, text: string): Promise<Status>;
  overview(): Promise<Overview>;
  /** Exports every visit plan (of one committee, or all); `labels` in the window's language. */
  exportVisits(committee: string | null, format: FileFormat, labels: Record<string, string>, lang: string): Promise<Exported>;
  exportApplications(
    filter: ExportFilter,
    format: FileFormat,
    labels: Record<string, string>,
    lang: string,
    pin: string | null,
  ): Promise<Exported>;
  exportResidents(committee: string | null, format: FileFormat, pin: string | null): Promise<Exported>;
  /** Opens the exports folder; resolves to the folder. */
  openExports(): Promise<string>;
  previewRoster(name: string, bytes: Uint8Array, layout?: RosterLayout | null, sheet?: string | null): Promise<RosterPreview>;
  importRoster(
    name: string,
    bytes: Uint8Array,
    committee: string | null,
    layout?: RosterLayout | null,
    sheet?: string | null,
  ): Promise<ImportReport>;
  /** Calls `handler` as exports and imports progress; returns the unsubscribe. */
  onProgress(handler: (p: TaskProgress) => void): () => void;
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

/** The bytes of a base64 text (how blobs come back from the device). */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
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
  unlock: (pin, member) => call("unlock", { pin, member }),
  enrollAgain: (pin, serverUrl, code) => call("enroll_again", { pin, serverUrl, code }),
  members: () => call("members"),
  addMember: (code, pin) => call("add_member", { code, pin }),
  addMemberByName: (name, pin) => call("add_member_by_name", { name, pin }),
  lock: () => call("lock"),
  enterResidentMode: () => call("enter_resident_mode"),
  leaveResidentMode: (pin) => call("leave_resident_mode", { pin }),
  speak: (text, lang) => call("speak", { text, lang }),
  stopSpeaking: () => call("stop_speaking"),
  readAloudAvailable: (lang) => call("read_aloud_available", { lang }),
  speaking: () => call("speaking"),
  saveReceipt: (id, labels) => call("save_receipt", { id, labels }),
  openReceipt: (path) => call("open_receipt", { path }),
  recordConsent: (id, data, agreed, signature) =>
    call("record_consent", { id, data, agreed, signature: signature ? toBase64(signature) : null }),
  syncState: () => call("sync_state"),
  syncNow: () => call("sync_now"),
  refusedRecords: () => call("refused_records"),
  recordsAside: () => call("records_aside"),
  logEvidence: () => call("log_evidence"),
  acceptServerLog: (pin) => call("accept_server_log", { pin }),
  onSynced: (handler) => {
    const unlisten = listen("doorstep://synced", () => handler());
    return () => {
      void unlisten.then((f) => f());
    };
  },
  searchResidents: (query) => call("search_residents", { query }),
  registerResident: (input) => call("register_resident", { input }),
  updateResident: (id, edit) => call("update_resident", { id, edit }),
  resident: (id, pin) => call("resident", { id, pin }),
  servicesFor: (resident) => call("services_for", { resident }),
  services: () => call("services"),
  authorizationsOf: (resident) => call("authorizations_of", { resident }),
  recordAuthorization: (resident, input) => call("record_authorization", { resident, input }),
  storeBlob: (bytes) => call("store_blob", { base64: toBase64(bytes) }),
  blob: (sha256) => call<string>("blob", { sha256 }).then(fromBase64),
  attachFile: (id, slot, name, bytes, quality) =>
    call("attach_file", {
      id,
      slot,
      name,
      base64: toBase64(bytes),
      quality: quality ? JSON.stringify(quality) : null,
    }),
  startApplication: (resident, service) => call("start_application", { resident, service }),
  application: (id, pin) => call("application", { id, pin: pin ?? null }),
  setApplicationField: (id, key, value) => call("set_application_field", { id, key, value }),
  typeApplicationField: (id, key, text) => call("type_application_field", { id, key, text }),
  removeAttachment: (id, sha256) => call("remove_attachment", { id, sha256 }),
  submitApplication: (id) => call("submit_application", { id }),
  listApplications: (resident) => call("list_applications", { resident }),
  certificationsToVisit: () => call("certifications_to_visit"),
  myVisits: (offset, limit) => call("my_visits", { offset, limit }),
  visitPlan: (resident) => call("visit_plan", { resident }),
  visitors: () => call("visitors"),
  assignVisit: (resident, assignment) => call("assign_visit", { resident, assignment }),
  recordVisitOutcome: (resident, input) => call("record_visit_outcome", { resident, input }),
  assignVisits: (residents, assignment) => call("assign_visits", { residents, assignment }),
  visitOverview: () => call("visit_overview"),
  printVisitList: (labels, lang) => call("print_visit_list", { labels, lang }),
  conflictedRecords: (pin) => call("conflicted_records", { pin }),
  resolveConflict: (id, field, choice, note) => call("resolve_conflict", { id, field, choice, note }),
  consoleCommittees: () => call("console_committees"),
  logPage: (filter) => call("log_page", { filter }),
  logEntryRecords: (entry) => call("log_entry_records", { entry }),
  chainStates: () => call("chain_states"),
  enrolledDevices: () => call("enrolled_devices"),
  revokeDevice: (deviceId, pin) => call("revoke_device", { deviceId, pin }),
  reviewQueue: () => call("review_queue"),
  recordReview: (id, decision, text) => call("record_review", { id, decision, text }),
  overview: () => call("overview"),
  exportVisits: (committee, format, labels, lang) => call("export_visits", { committee, format, labels, lang }),
  exportApplications: (filter, format, labels, lang, pin) =>
    call("export_applications", { filter, format, labels, lang, pin }),
  exportResidents: (committee, format, pin) => call("export_residents", { committee, format, pin }),
  openExports: () => call("open_exports"),
  previewRoster: (name, bytes, layout, sheet) =>
    call("preview_roster", { name, base64: toBase64(bytes), layout: layout ?? null, sheet: sheet ?? null }),
  importRoster: (name, bytes, committee, layout, sheet) =>
    call("import_roster", { name, base64: toBase64(bytes), committee, layout: layout ?? null, sheet: sheet ?? null }),
  onProgress: (handler) => {
    const unlisten = listen<TaskProgress>("doorstep://progress", (e) => handler(e.payload));
    return () => {
      void unlisten.then((f) => f());
    };
  },
};
