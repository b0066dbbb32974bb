// Generated from the Rust types by sync/device/tests/contract.rs: do not edit.
// After changing a type: DOORSTEP_BLESS=1 cargo test --workspace --test contract

/**
 * The id of one record document: a UUIDv7 in its hyphenated text form, chosen by the
 * device that created the record (time-ordered, so lists sort by creation).
 */
export type DocId = string;

/**
 * Help a resident needs during a visit.
 */
export type Needs = { hearing: boolean, vision: boolean, mobility: boolean, };

/**
 * Someone to call for the resident.
 */
export type EmergencyContact = { name: string, phone: string, relation: string, };

/**
 * A scalar value as records hold it.
 */
export type FieldValue = { "type": "text", "value": string } | { "type": "bool", "value": boolean } | { "type": "int", "value": number } | { "type": "time", "value": number } | { "type": "null" };

/**
 * A field of a record form. The serialized name is what the UI keys its messages on.
 */
export type Field = "name" | "id_number" | "phone" | "gender" | "birth_date" | "address" | "emergency_name" | "emergency_phone" | "emergency_relation" | "services" | "valid_from" | "valid_to" | "signature" | "form" | "attachment" | "consent" | "authorization" | "assignee" | "due" | "purpose" | "outcome" | "visited_on" | "next_due";

/**
 * One refused field: which field and a stable machine code (`name_empty`, `id_checksum`, …).
 * The UI translates the code; the code never changes once released.
 */
export type FieldError = { field: Field, code: ErrorCode, 
/**
 * The catalog key, for a form field or attachment slot of an application.
 */
key?: string, };

/**
 * Every refused field of one form, so the volunteer sees all problems at once.
 */
export type FieldErrors = Array<FieldError>;

/**
 * Personal data of a special kind (PIPL), for which the resident consents separately.
 */
export type Sensitive = "face" | "health" | "disability" | "finances";

/**
 * A check of the camera's guidance (the window's `CHECKS`, in the same order).
 */
export type PhotoCheck = "noFace" | "manyFaces" | "tooDark" | "tooBright" | "comeCloser" | "moveBack" | "faceScreen" | "holdStill";

/**
 * Where a photo came from.
 */
export type PhotoSource = "camera" | "file";

/**
 * How the liveness step after the photo ended.
 */
export type Liveness = "blink" | "nod" | "skipped" | "not_asked";

/**
 * How a photo was taken and what held when it was.
 */
export type PhotoQuality = { 
/**
 * Older records, from before files were judged, name none: the camera.
 */
source: PhotoSource, 
/**
 * Taken by itself when every check held (`false`: by hand, or a chosen file).
 */
auto: boolean, passed: Array<PhotoCheck>, 
/**
 * What did not hold when the photo was taken by hand.
 */
failed: Array<PhotoCheck>, 
/**
 * The face's height against the picture's shorter side.
 */
size: number, 
/**
 * Degrees; `None` without a face.
 */
yaw: number | null, pitch: number | null, roll: number | null, 
/**
 * Mean luma of the face, 0-255.
 */
brightness: number, 
/**
 * Edges against contrast (below 0.25 is blurred).
 */
sharpness: number, liveness: Liveness, };

/**
 * What was stamped onto a copy of a photo, and of which photo it is a copy.
 */
export type Stamp = { 
/**
 * The original's SHA-256: kept beside the copy, unchanged.
 */
of: string, 
/**
 * The day stamped, `YYYY-MM-DD`.
 */
date: string, 
/**
 * The volunteer's name stamped.
 */
by: string, };

/**
 * An attachment of an application.
 */
export type Attachment = { sha256: string, slot: string, name: string, mime: string, size: number, added_at: number, 
/**
 * How a photo taken with the guided camera was taken (none for a chosen file).
 */
quality: PhotoQuality | null, 
/**
 * The record holds a quality record that does not read as one.
 */
quality_unreadable: boolean, 
/**
 * This is a copy of another attachment with the date and the volunteer's name
 * stamped on it.
 */
stamp: Stamp | null, };

/**
 * Kinds of review event.
 */
export type EventKind = "submitted" | "returned" | "approved" | "rejected" | "filed" | "consent" | "reopened";

/**
 * Where an application stands, derived from its events.
 */
export type Status = "draft" | "submitted" | "returned" | "approved" | "rejected" | "filed";

/**
 * A resident's decision on one kind of sensitive personal data (PIPL art. 29: separate
 * consent for each), signed on screen when agreed.
 */
export type Consent = { data: Sensitive, agreed: boolean, 
/**
 * SHA-256 (hex) of the signature image; empty for a refusal given without one.
 */
signature: string, };

/**
 * One review event.
 */
export type Event = { 
/**
 * Unique per event (device actor + time + counter), the tie-break for ordering.
 */
id: string, kind: EventKind, 
/**
 * Milliseconds since the epoch.
 */
at: number, by: string, device: string, 
/**
 * A return comment, a rejection reason, or the government reference when filed.
 */
text: string, 
/**
 * For a consent event: which data, and the resident's decision.
 */
consent?: Consent, };

/**
 * Who and when, for one change.
 */
export type Author = { 
/**
 * The device's actor id, hex.
 */
device: string, volunteer: string, 
/**
 * Milliseconds since the epoch.
 */
at: number, what: string, 
/**
 * The person's reason, when they gave one.
 */
note: string, };

/**
 * One of the values a conflicted field holds.
 */
export type ConflictValue = { value: FieldValue, 
/**
 * Names this value among the others (the id of the operation that wrote it), so a
 * person can choose a value a screen shows masked: see [`resolve_choice`].
 */
choice: string, 
/**
 * Who wrote it, from the change that made it (`None` if that change is unknown).
 */
author: Author | null, };

/**
 * A field holding more than one concurrent value; `values[0]` is the one shown for now.
 */
export type FieldConflict = { field: string, values: Array<ConflictValue>, };

/**
 * An authorization as read from its document.
 */
export type Authorization = { resident: string, volunteer: string, services: Array<string>, valid_from: string, valid_to: string, signature: string, revoked: boolean, created_at: number, };

/**
 * A form field's text kept as typed, with the code of its problem.
 */
export type TypedText = { key: string, text: string, 
/**
 * Why the text is not a value yet; `None` when it is one.
 */
code: ErrorCode | null, };

/**
 * A decision on an application.
 */
export type Decision = "returned" | "approved" | "rejected" | "filed" | "reopened";

/**
 * A decision the window may offer, and whether it asks for words.
 */
export type DecisionOffer = { decision: Decision, needs_text: boolean, };

/**
 * An application as lists show it.
 */
export type ApplicationSummary = { id: DocId, resident: string, service: string, status: Status, conflicted: boolean, created_at: number, updated_at: number, };

/**
 * A resident as lists show them: personal numbers masked.
 */
export type ResidentSummary = { id: DocId, name: string, 
/**
 * All but the last four characters hidden.
 */
id_number_masked: string, 
/**
 * The middle digits hidden (`138****8000`); empty when the resident has no phone.
 */
phone_masked: string, 
/**
 * Some field holds values written concurrently on different devices.
 */
conflicted: boolean, 
/**
 * Milliseconds since the epoch.
 */
created_at: number, };

/**
 * A resident as their page shows them.
 */
export type ResidentView = { id: DocId, name: string, gender: string, birth_date: string, 
/**
 * Masked but for the last four characters unless `revealed` (the phones too).
 */
id_number: string, revealed: boolean, phone: string, address: string, needs: Needs, emergency: EmergencyContact, notes: string, created_at: number, conflicted_fields: Array<string>, 
/**
 * The yearly pension certification, when the committee follows it for her.
 */
certification?: CertificationView, };

/**
 * An application as its form, the review and resident mode show it.
 */
export type ApplicationView = { id: DocId, resident_id: string, resident_name: string, service: string, status: Status, fields: { [key in string]: FieldValue }, attachments: Array<Attachment>, events: Array<Event>, conflicted_fields: Array<string>, created_at: number, 
/**
 * Texts kept as typed because they do not pass their checks, with the problem.
 */
typed: Array<TypedText>, 
/**
 * This device submitted or changed the application: it may not decide it.
 */
own_work: boolean, 
/**
 * Personal numbers are shown whole (the PIN was given for this view).
 */
revealed: boolean, 
/**
 * What stops it from being submitted now (empty when it can go).
 */
blockers: FieldErrors, 
/**
 * The decisions this device may take on it now (none on its own work but filing,
 * none at all on a volunteer's device).
 */
decisions: Array<DecisionOffer>, 
/**
 * Whether this device may change it although it has been decided: an approved
 * application (the change reopens it for review, which only a supervisor may do),
 * or one a supervisor has reopened.
 */
amendable: boolean, 
/**
 * Two decisions on the latest submission that contradict each other, made offline
 * on two tablets: it waits for a supervisor to decide it again.
 */
disputed: Array<Event>, 
/**
 * The kinds of sensitive data its service uses, in catalog order: the consent
 * screens resident mode shows.
 */
sensitive_kinds: Array<Sensitive>, 
/**
 * The resident's latest decision on each kind she was asked about.
 */
consents: { [key in Sensitive]?: boolean }, };

/**
 * A line of an application list: the application and its resident's name.
 */
export type ApplicationRow = { resident_name: string, id: DocId, resident: string, service: string, status: Status, conflicted: boolean, created_at: number, updated_at: number, };

/**
 * A signed authorization, with its record's id.
 */
export type AuthorizationView = { id: DocId, resident: string, volunteer: string, services: Array<string>, valid_from: string, valid_to: string, signature: string, revoked: boolean, created_at: number, };

/**
 * A record with fields in conflict, as the conflicts screen lists it.
 */
export type ConflictedRecord = { id: DocId, kind: string, 
/**
 * The resident's name (of the record, or of the application's resident).
 */
resident_name: string, 
/**
 * The service of an application.
 */
service: string | null, conflicts: Array<FieldConflict>, 
/**
 * Some value is a personal number shown masked: the PIN can show it whole.
 */
masked: boolean, 
/**
 * Personal numbers are shown whole (the PIN was given for this view).
 */
revealed: boolean, };

/**
 * What a volunteer types to register or edit a resident. Only name and ID number are
 * required.
 */
export type ResidentInput = { name: string, id_number: string, phone: string, 
/**
 * `male`, `female`, or empty to take it from the ID number.
 */
gender: string, 
/**
 * `YYYY-MM-DD` as stated (a roster column, say), or empty to take it from the ID
 * number; when given it must agree with the ID number.
 */
birth_date: string, address: string, needs: Needs, emergency: EmergencyContact, };

/**
 * An edit of the emergency contact, field by field (its phone, shown masked, is left
 * out unless retyped). Its `Debug` is [`ResidentPatch`]'s: which fields, not values.
 */
export type EmergencyPatch = { name?: string | null, phone?: string | null, relation?: string | null, };

/**
 * An edit of a resident: the fields given replace the ones on record; the fields left
 * out stay as they are. An edit form that shows only some fields (the ID number only
 * masked, no emergency contact) thus never resets the others.
 */
export type ResidentPatch = { name?: string | null, id_number?: string | null, phone?: string | null, gender?: string | null, birth_date?: string | null, address?: string | null, needs?: Needs | null, emergency?: EmergencyPatch | null, };

/**
 * What the volunteer records.
 */
export type AuthorizationInput = { services: Array<string>, valid_from: string, valid_to: string, 
/**
 * SHA-256 (hex) of the signature image, already stored as a blob.
 */
signature: string, };

/**
 * A text in both languages of the UI.
 */
export type Text = { "zh-CN": string, en: string, };

/**
 * Why a resident cannot apply, or what must be confirmed first.
 */
export type Eligibility = { eligible: boolean, 
/**
 * Rules not met, with their reasons (the resident cannot apply).
 */
unmet: Array<Text>, 
/**
 * Facts the volunteer must confirm with the resident before applying.
 */
to_confirm: Array<Text>, };

/**
 * A service as offered for one resident: whether they can apply, and why not.
 */
export type ServiceOffer = { code: string, name: Text, summary: Text, eligible: boolean, 
/**
 * Rules not met, with their reasons (the resident cannot apply).
 */
unmet: Array<Text>, 
/**
 * Facts the volunteer must confirm with the resident before applying.
 */
to_confirm: Array<Text>, };

/**
 * Fields of one record that became conflicted.
 */
export type NewConflict = { doc_id: DocId, kind: string, fields: Array<string>, };

/**
 * What one sync did.
 */
export type SyncReport = { 
/**
 * Documents and changes sent up.
 */
sent_docs: number, sent_changes: number, 
/**
 * Of those, changes the server had not seen before.
 */
accepted_changes: number, 
/**
 * Documents and changes received from other devices.
 */
received_docs: number, received_changes: number, 
/**
 * Fields that became conflicted on this device through what was received.
 */
new_conflicts: Array<NewConflict>, round_trips: number, 
/**
 * Request and response body bytes.
 */
bytes_up: number, bytes_down: number, 
/**
 * Attempts beyond the first, after network failures.
 */
retries: number, 
/**
 * Records the server refused (they stay waiting here, with why).
 */
refused: Array<RefusedRecord>, 
/**
 * Records received that could not be stored here, set aside for a person.
 */
set_aside: number, 
/**
 * The server's database had been restored from a backup: this sync sent every
 * record again.
 */
resent_after_restore: boolean, 
/**
 * Attachments uploaded (or found already on the server) and downloaded.
 */
blobs_sent: number, blobs_received: number, 
/**
 * Codes of attachments the server refused (they stay here and are tried again).
 */
blob_refusals: Array<string>, };

/**
 * One field changed by one change.
 */
export type FieldChange = { field: string, from: FieldValue | null, to: FieldValue | null, };

/**
 * One change of a record.
 */
export type HistoryEntry = { 
/**
 * The change hash, hex.
 */
change: string, author: Author, fields: Array<FieldChange>, 
/**
 * Whose key signed the change, as the device checked it against its key roster
 * ([`Signed::Unchecked`] until it is).
 */
signed: Signed, 
/**
 * The signer as the roster names it (the person and the device), for a change its
 * author signed.
 */
signer: string, };

/**
 * Whose key a change's signature verifies with.
 */
export type Signed = "author" | "server" | "not" | "missing" | "unchecked";

/**
 * What one log entry did to one record.
 */
export type RecordChanges = { doc_id: string, 
/**
 * `resident`, `authorization` or `application`; empty when this device does not
 * hold the record.
 */
kind: string, 
/**
 * The resident's name (for an application: whose it is).
 */
resident_name: string, 
/**
 * For an application: its service code.
 */
service: string, 
/**
 * Whether the record is on this device (sync to fetch it if not).
 */
present: boolean, 
/**
 * The entry's changes of this record, each with who, when and its fields.
 */
changes: Array<HistoryEntry>, 
/**
 * Change hashes the entry names that this device does not hold yet.
 */
missing: Array<string>, };

/**
 * Roles a device can be enrolled with.
 */
export type Role = "volunteer" | "supervisor";

/**
 * A committee (村委会 / 居委会), the scope of documents.
 */
export type Committee = { id: string, name: string, 
/**
 * The phone residents may call (printed on their receipts); empty when none.
 */
phone?: string, };

/**
 * Change hashes (hex) of one document.
 */
export type DocHashes = { doc_id: string, hashes: Array<string>, };

/**
 * One uploaded document the server refused, and why: `code` is one of
 * [`ERROR_CODES`], `message` says it in English for logs (never personal data).
 */
export type DocRefusal = { doc_id: string, code: string, message: string, };

/**
 * Fields of one document holding more than one concurrent value.
 */
export type DocConflicts = { doc_id: string, fields: Array<string>, };

/**
 * A committee's sync log as the server signs it: the checkpoint (a C2SP
 * `tlog-checkpoint` in a `signed-note`, see [`crate::merkle_log`]) and the consistency
 * proof from the size the device said it holds.
 */
export type LogCheckpoint = { committee: string, note: string, 
/**
 * The consistency proof's hashes, hex, from `from_size` to the checkpoint's size.
 */
proof: Array<string>, from_size: number, };

/**
 * A sync-log entry as supervisors read it.
 */
export type LogEntry = { 
/**
 * Position in its committee's chain, from 1.
 */
seq: number, committee: string, device_id: string, volunteer: string, 
/**
 * Milliseconds since the epoch.
 */
time: number, sync_id: string, received: Array<DocHashes>, sent: Array<DocHashes>, conflicts: Array<DocConflicts>, 
/**
 * Records the device sent that the server refused, each with why (who may write
 * what, a bad signature, a malformed change...): the evidence of what was tried.
 */
refused: Array<DocRefusal>, 
/**
 * Hex SHA-256 of the previous entry of the committee (zeros for the first).
 */
prev_hash: string, 
/**
 * Hex SHA-256 over `prev_hash` and this entry's content.
 */
hash: string, 
/**
 * The inclusion proof of this entry (leaf `seq - 1`) in the page's checkpoint of its
 * committee, hex.
 */
proof: Array<string>, };

/**
 * A page of the sync log, newest first.
 */
export type LogPage = { entries: Array<LogEntry>, 
/**
 * The checkpoint of each committee the page's entries are from, which their
 * inclusion proofs are against.
 */
checkpoints: Array<LogCheckpoint>, 
/**
 * Pass as `before` to read the next (older) page; absent on the last page.
 */
next_before: number | null, };

/**
 * What did not hold, for the window to say in its language.
 */
export type EvidenceKind = "shrank" | "rewritten" | "fork" | "signature" | "entry";

/**
 * A log that did not hold, as the device kept it.
 */
export type LogEvidence = { committee: string, kind: EvidenceKind, 
/**
 * What did not hold, in English (for the supervisor and the operator).
 */
reason: string, 
/**
 * The checkpoint this device held (a signed note), empty if none.
 */
held: string, 
/**
 * The checkpoint the server offered (or, for an entry of a log page, the entry).
 */
offered: string, 
/**
 * The proof it offered with it, hex.
 */
proof: Array<string>, 
/**
 * Milliseconds since the epoch.
 */
time: number, };

/**
 * The first entry of a chain that does not hold.
 */
export type ChainBreak = { seq: number, reason: string, };

/**
 * The state of one committee's log chain (`GET /v1/chain`).
 */
export type ChainState = { committee: string, 
/**
 * Entries checked (all of them when the chain is intact; those before the break
 * otherwise).
 */
entries: number, 
/**
 * Where the chain breaks, if it does.
 */
broken: ChainBreak | null, };

/**
 * An enrolled device as supervisors list it (`GET /v1/devices`).
 */
export type DeviceInfo = { device_id: string, role: Role, 
/**
 * The person it was enrolled for.
 */
name: string, 
/**
 * What the device calls itself.
 */
label: string, committees: Array<string>, enrolled_at: number, revoked_at: number | null, last_sync_at: number | null, 
/**
 * The fingerprint of the public key bound to it ([`crate::keys::PublicKey::fingerprint`]);
 * empty for a device enrolled before keys.
 */
key_fingerprint: string, };

/**
 * An enrolled device as the devices screen lists it.
 */
export type DeviceView = { 
/**
 * The device this window runs on (it cannot revoke itself).
 */
this_device: boolean, 
/**
 * For this device: the key the server bound is the one in this device's keyring
 * (always `true` for the others, which this device cannot check).
 */
key_matches: boolean, device_id: string, role: Role, 
/**
 * The person it was enrolled for.
 */
name: string, 
/**
 * What the device calls itself.
 */
label: string, committees: Array<string>, enrolled_at: number, revoked_at: number | null, last_sync_at: number | null, 
/**
 * The fingerprint of the public key bound to it ([`crate::keys::PublicKey::fingerprint`]);
 * empty for a device enrolled before keys.
 */
key_fingerprint: string, };

/**
 * Filters of a sync-log page (all optional).
 */
export type LogFilter = { committee: string | null, device: string | null, volunteer: string | null, 
/**
 * From this time (ms), inclusive.
 */
from: number | null, 
/**
 * Until this time (ms), exclusive.
 */
to: number | null, conflicts_only: boolean, 
/**
 * The previous page's `next_before`.
 */
before: number | null, limit: number | null, };

/**
 * A submitted application waiting for a decision.
 */
export type QueueItem = { id: DocId, service: string, resident: string, resident_name: string, committee: string, 
/**
 * The volunteer who submitted it.
 */
submitted_by: string, 
/**
 * When it was (last) submitted, ms.
 */
submitted_at: number, 
/**
 * Whole days since then.
 */
age_days: number, conflicted: boolean, };

/**
 * One count of the overview.
 */
export type Count = { committee: string, service: string, status: Status, count: number, };

/**
 * How many residents of a committee are in one certification state.
 */
export type CertificationCount = { committee: string, state: CertificationState, count: number, };

/**
 * A resident's certification year as the screens show it.
 */
export type CertificationView = { resident: string, resident_name: string, committee: string, state: CertificationState, 
/**
 * It needs a visit: due or overdue.
 */
to_visit: boolean, 
/**
 * The window the state is about, `YYYY-MM-DD`: the next (done), the current (due),
 * the one that passed (overdue).
 */
due_from: string, due_by: string, 
/**
 * The window follows the last certification (`true`) or the birthday month.
 */
from_last: boolean, 
/**
 * The last certification known, `YYYY-MM-DD`, and how it is known.
 */
last_certified?: string, certified_by?: CertifiedBy, 
/**
 * The government's reference of a filed one (may be empty).
 */
reference: string, 
/**
 * The newest application under way (neither filed nor rejected), if any.
 */
application?: DocId, application_status?: Status, };

/**
 * Where a resident's certification stands on a day.
 */
export type CertificationState = "overdue" | "due" | "done";

/**
 * How the last certification is known.
 */
export type CertifiedBy = "filed" | "recorded";

/**
 * The overview of a supervisor's committees.
 */
export type Overview = { 
/**
 * Applications by committee, service and status.
 */
counts: Array<Count>, 
/**
 * Residents per committee.
 */
residents: Array<[string, number]>, 
/**
 * Residents followed for the yearly pension certification, by committee and state.
 */
certification_counts: Array<CertificationCount>, 
/**
 * Those whose certification needs a visit this month (overdue, or due by the end
 * of the month), overdue first.
 */
to_visit: Array<CertificationView>, };

/**
 * A file format of rosters and exports.
 */
export type Format = "xlsx" | "csv";

/**
 * Which applications an export takes (all optional).
 */
export type ExportFilter = { committee: string | null, service: string | null, status: string | null, 
/**
 * Created at or after (ms).
 */
from: number | null, 
/**
 * Created before (ms).
 */
to: number | null, };

/**
 * A file written into the exports folder.
 */
export type Exported = { path: string, rows: number, revealed: boolean, };

/**
 * One reason a roster row is refused: the column and a code the UI translates.
 */
export type RowProblem = { 
/**
 * `name`, `id_number`, … or `row`.
 */
field: string, code: ErrorCode, 
/**
 * For `id_duplicate_in_file`: the line that first has the same ID number.
 */
first_line?: number, };

/**
 * A refused row: its line in the file (the header is line 1) and why.
 */
export type RejectedRow = { line: number, 
/**
 * The name as written (for the person fixing the file; never logged).
 */
name: string, problems: Array<RowProblem>, };

/**
 * How a roster is laid out: the line of its header row and what each column holds.
 */
export type RosterLayout = { 
/**
 * The file's line (from 1) naming the columns; the rows below it are read.
 */
header_line: number, 
/**
 * What each column holds, by position: `name`, `id_number`, `phone`, `gender`,
 * `birth_date`, `address`, or nothing (not imported).
 */
columns: Array<string | null>, };

/**
 * One row of the preview.
 */
export type PreviewRow = { line: number, name: string, id_number_masked: string, phone_masked: string, birth_date: string, };

/**
 * Why a line was left out.
 */
export type IgnoredKind = "title" | "total" | "note";

/**
 * A line of a roster file left out: a title above the header row, a totals line, or a
 * note (a line with neither a name nor an ID number, such as who drew the table up).
 */
export type IgnoredLine = { line: number, kind: IgnoredKind, 
/**
 * What it says, long numbers masked, cut at 60 characters.
 */
text: string, };

/**
 * Cells merged over lines `first_line..=last_line` of a roster's table, in the column
 * headed `header` (read as `field`), and whether their value was filled into each line.
 */
export type MergedCells = { first_line: number, last_line: number, header: string, field: string, filled: boolean, };

/**
 * What importing a roster would do, shown before anything is saved.
 */
export type RosterPreview = { 
/**
 * A workbook's sheets (none for a CSV file), and the one read.
 */
sheets: Array<string>, sheet: string | null, 
/**
 * Lines left out (titles, totals, notes): the first hundred, and how many in all.
 */
ignored: Array<IgnoredLine>, ignored_lines: number, 
/**
 * Cells merged over several rows of the table (an address over a household's rows):
 * the first hundred, each filled into every row or not, and how many in all.
 */
merged: Array<MergedCells>, merged_cells: number, 
/**
 * How the file was read: found in it, or as a person laid it out; `None` when the
 * file does not say which row and columns hold the names and ID numbers.
 */
layout: RosterLayout | null, 
/**
 * The file's first lines as they appear (long numbers masked), to lay it out by.
 */
head: Array<[number, Array<string>]>, headers: Array<[string, string | null]>, 
/**
 * Non-empty rows in the file.
 */
rows: number, 
/**
 * Rows that would be added.
 */
new: number, 
/**
 * Rows whose ID number is already registered (skipped).
 */
already_registered: number, rejected: Array<RejectedRow>, 
/**
 * The first rows that would be added, masked (name, ID, phone).
 */
sample: Array<PreviewRow>, };

/**
 * What an import did.
 */
export type ImportReport = { rows: number, added: number, already_registered: number, rejected: Array<RejectedRow>, };

/**
 * The receipt's words, in the window's language.
 */
export type ReceiptLabels = { title: string, resident: string, service: string, reference: string, date: string, helper: string, status: string, next: string, consents: string, 
/**
 * The label of the committee's phone.
 */
phone: string, 
/**
 * The status's name in words.
 */
status_text: string, 
/**
 * One line per consent decision, already in words.
 */
consent_lines: Array<string>, 
/**
 * `zh-CN` or `en`: which of the catalog's texts to use.
 */
lang: string, };

export type ErrorCode = "name_empty" | "name_too_long" | "name_chars" | "id_empty" | "id_length" | "id_chars" | "id_region" | "id_birth_date" | "id_checksum" | "id_duplicate" | "phone_invalid" | "emergency_phone_missing" | "emergency_name_missing" | "gender_invalid" | "gender_disagrees_with_id" | "birth_date_disagrees_with_id" | "text_too_long" | "text_chars" | "invalid_input" | "not_eligible" | "service_unknown" | "application_locked" | "attachment_empty" | "attachment_too_large" | "attachment_slot_unknown" | "attachment_not_photo" | "attachment_not_photo_or_pdf" | "photo_quality_invalid" | "photo_unreadable" | "stamp_font_missing" | "date_invalid" | "date_in_past" | "date_in_future" | "date_before_start" | "period_too_long" | "signature_missing" | "wrong_type" | "number_too_small" | "number_too_large" | "choice_invalid" | "required" | "consent_declined" | "consent_missing" | "consent_not_needed" | "authorization_missing" | "review_text_required" | "own_work" | "decision_unknown" | "not_supervisor" | "data_dir_unusable" | "storage_failed" | "disk_full" | "schema_too_new" | "not_found" | "record_malformed" | "record_quarantined" | "invalid_bytes" | "unknown_kind" | "no_conflict" | "not_a_conflict_value" | "database_key_wrong" | "database_key_missing" | "keyring_unavailable" | "catalog_invalid" | "services_empty" | "internal" | "pin_too_short" | "pin_too_long" | "pin_digits_only" | "pin_not_set" | "pin_empty" | "pin_wrong" | "pin_wait" | "pin_required" | "locked" | "member_removed" | "member_unknown" | "member_other_committee" | "member_other_server" | "member_already_here" | "member_not_first" | "member_changed" | "tablet_in_use" | "server_url_invalid" | "server_unreachable" | "server_identity" | "server_key_missing" | "request_signature_invalid" | "plain_http_remote" | "enroll_text_invalid" | "server_log_untrusted" | "server_refused" | "not_enrolled" | "sync_incomplete" | "enrollment_unknown" | "enrollment_expired" | "enrollment_used" | "actor_taken" | "device_revoked" | "device_unknown" | "device_forbidden" | "token_missing" | "token_malformed" | "token_unknown" | "storage_unavailable" | "storage_full" | "role_forbidden" | "committee_forbidden" | "committee_required" | "cross_committee" | "document_too_large" | "request_too_large" | "invalid_change" | "missing_dependencies" | "kind_mismatch" | "duplicate_document" | "invalid_doc_id" | "no_changes" | "change_too_large" | "too_many_operations" | "attestation_missing" | "attestation_invalid" | "author_unknown" | "author_revoked" | "author_committee" | "rule_forbidden" | "event_altered" | "four_eyes" | "key_roster_invalid" | "key_roster_missing" | "bundle_invalid" | "bundle_forged" | "bundle_signer_unknown" | "bundle_foreign" | "bundle_damaged" | "bundle_too_new" | "bundle_incomplete" | "bundle_unreadable" | "bundle_unwritable" | "tts_unavailable" | "tts_failed" | "receipt_font_missing" | "receipt_unwritable" | "receipt_unopenable" | "roster_format" | "roster_empty" | "roster_columns" | "roster_too_large" | "roster_unreadable" | "roster_encoding" | "id_number_not_text" | "id_duplicate_in_file" | "committee_not_yours" | "export_failed" | "export_unwritable" | "export_unopenable";

/**
 * A refused command, as the window receives it.
 */
export type UiError = { code: ErrorCode, message: string, fields?: Array<FieldError>, 
/**
 * For `pin_wrong` and `pin_wait`: wrong PINs in a row, and milliseconds to wait.
 */
failures?: number, wait_ms?: number, };

/**
 * Which part of a sync is running.
 */
export type SyncPhase = "upload" | "records" | "download";

/**
 * How far a sync has got, for a progress bar.
 */
export type SyncProgress = { phase: SyncPhase, done: number, total: number, };

/**
 * The status line, as the window receives it.
 */
export type SyncState = { 
/**
 * Whether the server answered the last time it was tried (`None`: not tried yet).
 */
online: boolean | null, running: boolean, 
/**
 * How far the sync in progress has got.
 */
progress: SyncProgress | null, 
/**
 * The code of the last sync's failure, cleared by a successful sync.
 */
last_error: ErrorCode | null, last_report: SyncReport | null, 
/**
 * Whether the window is unlocked (the shell's session says).
 */
unlocked: boolean, enrolled: boolean, 
/**
 * Records changed here that the server has not acknowledged.
 */
pending_docs: number, 
/**
 * When the last sync finished (ms since the epoch).
 */
last_sync_at: number | null, 
/**
 * Records with conflicted fields.
 */
conflicts: number, 
/**
 * Waiting records the server refused, and received records set aside here.
 */
refused: number, aside: number, };

/**
 * Kinds of form field.
 */
export type FieldKind = "text" | "number" | "date" | "choice" | "bool" | "phone" | "id_number";

/**
 * One choice of a `choice` field.
 */
export type ChoiceOption = { value: string, label: Text, };

/**
 * A form field of a service.
 */
export type FieldDef = { key: string, type: FieldKind, label: Text, help: Text | null, required: boolean, max_length: number | null, min: number | null, max: number | null, options: Array<ChoiceOption>, 
/**
 * A personal number (a bank or social-security account): shown masked but for its
 * last four characters, like phones and ID numbers, unless revealed with the PIN.
 */
masked: boolean, 
/**
 * A date that cannot lie in the future (a date something already happened).
 */
past: boolean, };

/**
 * Which files an attachment slot takes.
 */
export type Accepts = "photo" | "photo_or_pdf";

/**
 * A document or photo to attach.
 */
export type AttachmentDef = { key: string, label: Text, required: boolean, sensitive: Sensitive | null, 
/**
 * Which files it takes: a photo (the default), or a photo or a PDF.
 */
accepts: Accepts, 
/**
 * How long it is kept and what happens to it then, as the consent screen tells the
 * resident: the committee's retention rule, required for a sensitive attachment.
 */
kept: Text | null, 
/**
 * A photo taken in a particular way: `id_card`, the resident half body holding her
 * ID card, of which the device keeps a copy stamped with the day and the
 * volunteer's name beside the original.
 */
capture?: Capture, };

/**
 * Ways a photo slot is taken.
 */
export type Capture = "id_card";

/**
 * Kinds of eligibility rule.
 */
export type RuleKind = "min_age" | "max_age" | "confirm";

/**
 * One eligibility rule, with the reason shown when it is not met.
 */
export type Rule = { rule: RuleKind, years: number | null, 
/**
 * What is confirmed (for `confirm`), or why the rule exists.
 */
reason: Text, };

/**
 * One screen of resident mode: plain words, and the fields it shows.
 */
export type Step = { title: Text, body: Text, fields: Array<string>, };

/**
 * One service of the catalog.
 */
export type Service = { code: string, version: number, name: Text, summary: Text, eligibility: Array<Rule>, fields: Array<FieldDef>, attachments: Array<AttachmentDef>, steps: Array<Step>, };

/**
 * The device's enrollment, as the start screen and the top bar show it.
 */
export type EnrollmentView = { server_url: string, 
/**
 * The name the device was enrolled under (the volunteer's or supervisor's).
 */
name: string, role: Role, 
/**
 * The names of the committees it serves.
 */
committees: Array<string>, };

/**
 * One person who may unlock this device, as the start screen lists them.
 */
export type MemberView = { 
/**
 * The server's id of their enrollment (empty for a device not enrolled yet).
 */
id: string, name: string, role: Role | null, 
/**
 * Whether they have a PIN (everyone added with a code has one).
 */
has_pin: boolean, 
/**
 * The server removed them: they cannot unlock any more; their work stays.
 */
removed: boolean, 
/**
 * The one who unlocked last (who unlocks by default).
 */
active: boolean, };

/**
 * Where the app stands at start: enrolled or not, PIN set or not, locked or not.
 */
export type StartState = { enrollment: EnrollmentView | null, has_pin: boolean, unlocked: boolean, 
/**
 * The volunteer the PIN belongs to (the active member).
 */
volunteer: string, 
/**
 * Everyone who may unlock this device (a shared tablet holds several), the active
 * one marked; those the server removed are marked too.
 */
members: Array<MemberView>, 
/**
 * How long the app stays unlocked without a command.
 */
idle_lock_secs: number, };

/**
 * A long file task the window shows a progress bar for.
 */
export type Task = "export" | "import";

/**
 * How far an export or import has got (rows).
 */
export type TaskProgress = { task: Task, done: number, total: number, };

/**
 * A record the server did not take.
 */
export type RefusedRecord = { doc_id: DocId, code: ErrorCode, };

/**
 * A refused record as the window lists it: which record, why, since when.
 */
export type RefusedView = { id: DocId, kind: string, 
/**
 * The resident's name (of the record, or of the record's resident).
 */
resident_name: string, 
/**
 * The service of an application.
 */
service: string | null, code: ErrorCode, 
/**
 * When the server last refused it (ms since the epoch).
 */
at: number, };

/**
 * A received record set aside, as the window lists it.
 */
export type AsideView = { 
/**
 * The record's id as it came (it may not even be a valid one).
 */
doc_id: string, kind: string, committee: string, 
/**
 * Why it could not be stored.
 */
code: ErrorCode, 
/**
 * Changes kept.
 */
changes: number, 
/**
 * For changes that did not hold against the key roster: whose they claim to be (the
 * person and device the roster names, or `?` and the first digits of an unknown
 * author's id).
 */
authors: Array<string>, 
/**
 * When it was first set aside (ms since the epoch).
 */
at: number, };

/**
 * What a visit is for.
 */
export type Purpose = "checkup" | "certification" | "service";

/**
 * What came of a visit.
 */
export type Outcome = "visited" | "application_started" | "not_home" | "moved" | "deceased" | "declined";

/**
 * An assignment as a supervisor makes it.
 */
export type Assignment = { 
/**
 * The volunteer's member id, and their name as shown.
 */
assignee: string, assignee_name: string, 
/**
 * `YYYY-MM-DD`.
 */
due: string, purpose: Purpose, 
/**
 * The service's catalog code, for [`Purpose::Service`]; empty otherwise.
 */
service: string, };

/**
 * What a volunteer records after a visit.
 */
export type OutcomeInput = { outcome: Outcome, 
/**
 * The day of the visit, `YYYY-MM-DD`.
 */
on: string, 
/**
 * The next visit proposed (`YYYY-MM-DD`), or empty.
 */
next_due: string, note: string, };

/**
 * One outcome as read from a plan.
 */
export type RecordedOutcome = { 
/**
 * Its key in the record (`outcome:<id>`): the same on every replica.
 */
key: string, 
/**
 * The assignment it answers (the plan's `assigned_at` then), and the due date of
 * the visit it answers.
 */
round: number, due: string, 
/**
 * `None` for a value this version does not know.
 */
outcome: Outcome | null, on: string, next_due: string, note: string, by: string, by_name: string, at: number, };

/**
 * A resident's visit plan as read from its document.
 */
export type Plan = { resident: string, 
/**
 * `None` until a supervisor assigns the resident (or when the fields are unreadable).
 */
assignment: Assignment | null, assigned_by: string, assigned_at: number, 
/**
 * Every outcome, by the day of the visit then key.
 */
outcomes: Array<RecordedOutcome>, };

/**
 * The visit a plan has due: to whom, when and what for.
 */
export type OpenVisit = { assignee: string, assignee_name: string, due: string, purpose: Purpose, service: string, 
/**
 * Whether it is a next visit a volunteer proposed (not the one a supervisor set).
 */
proposed: boolean, };

/**
 * How a visit stands against today.
 */
export type VisitWhen = "overdue" | "today" | "this_week" | "later";

/**
 * What a resident's file lacks for the visit.
 */
export type Missing = "phone" | "authorization";

/**
 * One visit of a volunteer's list.
 */
export type VisitRow = { resident: DocId, name: string, address: string, 
/**
 * `YYYY-MM-DD`.
 */
due: string, when: VisitWhen, purpose: Purpose, 
/**
 * The service's code, for [`Purpose::Service`].
 */
service: string, 
/**
 * A next visit a volunteer proposed, not one a supervisor set.
 */
proposed: boolean, 
/**
 * Two supervisors assigned the resident differently offline: a person decides.
 */
conflicted: boolean, missing: Array<Missing>, };

/**
 * A resident's visit plan as the resident's page shows it.
 */
export type PlanView = { plan: Plan, 
/**
 * The visit due, if any.
 */
open: OpenVisit | null, conflicted: boolean, };

/**
 * Someone a visit may be assigned to: an enrolled device's person of the committee.
 */
export type Visitor = { 
/**
 * Their member id (what an assignment names).
 */
id: string, name: string, 
/**
 * `None` for this device's own user when it is not enrolled.
 */
role: Role | null, };

/**
 * The visits of one person of one committee, as the supervisor's overview counts them.
 */
export type VisitCount = { committee: string, assignee: string, assignee_name: string, 
/**
 * Visits due from today on.
 */
planned: number, 
/**
 * Visits due before today and not yet done.
 */
overdue: number, 
/**
 * Residents assigned to them whose last visit was this year.
 */
done: number, };

/**
 * Visits planned, overdue and done per person and committee, and the residents of each
 * committee nobody has visited this year.
 */
export type VisitOverview = { counts: Array<VisitCount>, unvisited: Array<[string, number]>, };

/** Every error code, for the test that each has text in every language. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "name_empty",
  "name_too_long",
  "name_chars",
  "id_empty",
  "id_length",
  "id_chars",
  "id_region",
  "id_birth_date",
  "id_checksum",
  "id_duplicate",
  "phone_invalid",
  "emergency_phone_missing",
  "emergency_name_missing",
  "gender_invalid",
  "gender_disagrees_with_id",
  "birth_date_disagrees_with_id",
  "text_too_long",
  "text_chars",
  "invalid_input",
  "not_eligible",
  "service_unknown",
  "application_locked",
  "attachment_empty",
  "attachment_too_large",
  "attachment_slot_unknown",
  "attachment_not_photo",
  "attachment_not_photo_or_pdf",
  "photo_quality_invalid",
  "photo_unreadable",
  "stamp_font_missing",
  "date_invalid",
  "date_in_past",
  "date_in_future",
  "date_before_start",
  "period_too_long",
  "signature_missing",
  "wrong_type",
  "number_too_small",
  "number_too_large",
  "choice_invalid",
  "required",
  "consent_declined",
  "consent_missing",
  "consent_not_needed",
  "authorization_missing",
  "review_text_required",
  "own_work",
  "decision_unknown",
  "not_supervisor",
  "data_dir_unusable",
  "storage_failed",
  "disk_full",
  "schema_too_new",
  "not_found",
  "record_malformed",
  "record_quarantined",
  "invalid_bytes",
  "unknown_kind",
  "no_conflict",
  "not_a_conflict_value",
  "database_key_wrong",
  "database_key_missing",
  "keyring_unavailable",
  "catalog_invalid",
  "services_empty",
  "internal",
  "pin_too_short",
  "pin_too_long",
  "pin_digits_only",
  "pin_not_set",
  "pin_empty",
  "pin_wrong",
  "pin_wait",
  "pin_required",
  "locked",
  "member_removed",
  "member_unknown",
  "member_other_committee",
  "member_other_server",
  "member_already_here",
  "member_not_first",
  "member_changed",
  "tablet_in_use",
  "server_url_invalid",
  "server_unreachable",
  "server_identity",
  "server_key_missing",
  "request_signature_invalid",
  "plain_http_remote",
  "enroll_text_invalid",
  "server_log_untrusted",
  "server_refused",
  "not_enrolled",
  "sync_incomplete",
  "enrollment_unknown",
  "enrollment_expired",
  "enrollment_used",
  "actor_taken",
  "device_revoked",
  "device_unknown",
  "device_forbidden",
  "token_missing",
  "token_malformed",
  "token_unknown",
  "storage_unavailable",
  "storage_full",
  "role_forbidden",
  "committee_forbidden",
  "committee_required",
  "cross_committee",
  "document_too_large",
  "request_too_large",
  "invalid_change",
  "missing_dependencies",
  "kind_mismatch",
  "duplicate_document",
  "invalid_doc_id",
  "no_changes",
  "change_too_large",
  "too_many_operations",
  "attestation_missing",
  "attestation_invalid",
  "author_unknown",
  "author_revoked",
  "author_committee",
  "rule_forbidden",
  "event_altered",
  "four_eyes",
  "key_roster_invalid",
  "key_roster_missing",
  "bundle_invalid",
  "bundle_forged",
  "bundle_signer_unknown",
  "bundle_foreign",
  "bundle_damaged",
  "bundle_too_new",
  "bundle_incomplete",
  "bundle_unreadable",
  "bundle_unwritable",
  "tts_unavailable",
  "tts_failed",
  "receipt_font_missing",
  "receipt_unwritable",
  "receipt_unopenable",
  "roster_format",
  "roster_empty",
  "roster_columns",
  "roster_too_large",
  "roster_unreadable",
  "roster_encoding",
  "id_number_not_text",
  "id_duplicate_in_file",
  "committee_not_yours",
  "export_failed",
  "export_unwritable",
  "export_unopenable",
];
