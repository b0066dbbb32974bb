// Catalog entries and device views for the window's tests: what a test leaves out is
// what the device sends when a catalog file leaves it out, or an empty record.
import type { ApplicationView, AttachmentDef, FieldDef, Service } from "./api";

type Needs<T, K extends keyof T> = Pick<T, K> & Partial<T>;

export function field(f: Needs<FieldDef, "key" | "type" | "label">): FieldDef {
  return {
    help: null,
    required: false,
    max_length: null,
    min: null,
    max: null,
    options: [],
    masked: false,
    past: false,
    ...f,
  };
}

export function attachment(a: Needs<AttachmentDef, "key" | "label">): AttachmentDef {
  return { required: false, sensitive: null, accepts: "photo", kept: null, ...a };
}

export function service(s: Needs<Service, "code" | "name" | "summary">): Service {
  return { version: 1, eligibility: [], fields: [], attachments: [], steps: [], ...s };
}

/** An application as the device shows it: nothing filled in, decided or consented. */
export function applicationView(
  v: Needs<ApplicationView, "id" | "resident_id" | "resident_name" | "service" | "status">,
): ApplicationView {
  return {
    fields: {},
    attachments: [],
    events: [],
    conflicted_fields: [],
    created_at: 1,
    typed: [],
    own_work: false,
    amendable: false,
    disputed: [],
    revealed: false,
    blockers: [],
    decisions: [],
    sensitive_kinds: [],
    consents: {},
    ...v,
  };
}
