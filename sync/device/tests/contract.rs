//! One contract with the window: the TypeScript types of what the device sends it are
//! generated from the Rust types themselves. `frontend/src/generated/types.ts` must be
//! exactly what this test makes of them, so that the two cannot drift; after changing
//! one of these types, `DOORSTEP_BLESS=1 cargo test --workspace --test contract`
//! rewrites it (and `tsc` then shows what in the window must follow).

use std::path::PathBuf;

use doorstep_core::DocId;
use doorstep_core::ErrorCode;
use doorstep_core::application::{Attachment, Consent, Event, EventKind, Status};
use doorstep_core::attachment::Stamp;
use doorstep_core::authorization::Authorization;
use doorstep_core::authorization::AuthorizationInput;
use doorstep_core::catalog::Sensitive;
use doorstep_core::catalog::{
    AttachmentDef, Capture, ChoiceOption, Eligibility, FieldDef, FieldKind, Rule, RuleKind,
    Service, Step, Text,
};
use doorstep_core::certification::{CertificationState, CertifiedBy};
use doorstep_core::conflict::{ConflictValue, FieldConflict};
use doorstep_core::error::{FieldError, FieldErrors};
use doorstep_core::field::Field;
use doorstep_core::file_kind::Accepts;
use doorstep_core::history::{FieldChange, HistoryEntry};
use doorstep_core::key_roster::Signed;
use doorstep_core::photo_quality::{Liveness, PhotoCheck, PhotoQuality, PhotoSource};
use doorstep_core::protocol::{
    ChainBreak, ChainState, Committee, DeviceInfo, DocConflicts, DocHashes, DocRefusal,
    LogCheckpoint, LogEntry, LogPage, Role,
};
use doorstep_core::provenance::Author;
use doorstep_core::resident::{
    EmergencyContact, EmergencyPatch, Needs, ResidentInput, ResidentPatch,
};
use doorstep_core::review::{Decision, DecisionOffer};
use doorstep_core::value::FieldValue;
use doorstep_core::visit::{
    Assignment, OpenVisit, Outcome, OutcomeInput, Plan, Purpose, RecordedOutcome,
};
use doorstep_device::CertificationView;
use doorstep_device::ServiceOffer;
use doorstep_device::UiError;
use doorstep_device::applications::{ApplicationSummary, TypedText};
use doorstep_device::console::{
    CertificationCount, Count, DeviceView, LogFilter, Overview, QueueItem, RecordChanges,
};
use doorstep_device::members::MemberView;
use doorstep_device::receipt::ReceiptLabels;
use doorstep_device::roster::{
    ExportFilter, Exported, Format, IgnoredKind, IgnoredLine, ImportReport, MergedCells,
    PreviewRow, RejectedRow, RosterLayout, RosterPreview, RowProblem, Task, TaskProgress,
};
use doorstep_device::session::{EnrollmentView, StartState};
use doorstep_device::sync::{
    AsideView, NewConflict, RefusedRecord, RefusedView, SyncPhase, SyncProgress, SyncReport,
    SyncState,
};
use doorstep_device::visits::{
    Missing, PlanView, VisitCount, VisitOverview, VisitRow, VisitWhen, Visitor,
};
use doorstep_device::{
    ApplicationRow, ApplicationView, AuthorizationView, ConflictedRecord, ResidentSummary,
    ResidentView,
};
use doorstep_device::{EvidenceKind, LogEvidence};
use ts_rs::{Config, TS};

const BLESS: &str = "DOORSTEP_BLESS";

fn generated_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../frontend/src/generated/types.ts")
}

/// Every type's declaration, exported, in one module.
fn declarations() -> String {
    // Milliseconds since the epoch and sizes fit a JavaScript number.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by sync/device/tests/contract.rs: do not edit.\n\
         // After changing a type: DOORSTEP_BLESS=1 cargo test --workspace --test contract\n",
    );
    macro_rules! declare {
        ($($t:ty),* $(,)?) => {
            $(
                out.push('\n');
                if let Some(docs) = <$t as TS>::docs() {
                    out.push_str(&docs);
                }
                out.push_str("export ");
                out.push_str(&<$t as TS>::decl(&cfg));
                out.push('\n');
            )*
        };
    }
    declare!(
        DocId,
        Needs,
        EmergencyContact,
        FieldValue,
        Field,
        FieldError,
        FieldErrors,
        Sensitive,
        PhotoCheck,
        PhotoSource,
        Liveness,
        PhotoQuality,
        Stamp,
        Attachment,
        EventKind,
        Status,
        Consent,
        Event,
        Author,
        ConflictValue,
        FieldConflict,
        Authorization,
        TypedText,
        Decision,
        DecisionOffer,
        ApplicationSummary,
        ResidentSummary,
        ResidentView,
        ApplicationView,
        ApplicationRow,
        AuthorizationView,
        ConflictedRecord,
        ResidentInput,
        EmergencyPatch,
        ResidentPatch,
        AuthorizationInput,
        Text,
        Eligibility,
        ServiceOffer,
        NewConflict,
        SyncReport,
        FieldChange,
        HistoryEntry,
        Signed,
        RecordChanges,
        Role,
        Committee,
        DocHashes,
        DocRefusal,
        DocConflicts,
        LogCheckpoint,
        LogEntry,
        LogPage,
        EvidenceKind,
        LogEvidence,
        ChainBreak,
        ChainState,
        DeviceInfo,
        DeviceView,
        LogFilter,
        QueueItem,
        Count,
        CertificationCount,
        CertificationView,
        CertificationState,
        CertifiedBy,
        Overview,
        Format,
        ExportFilter,
        Exported,
        RowProblem,
        RejectedRow,
        RosterLayout,
        PreviewRow,
        IgnoredKind,
        IgnoredLine,
        MergedCells,
        RosterPreview,
        ImportReport,
        ReceiptLabels,
        ErrorCode,
        UiError,
        SyncPhase,
        SyncProgress,
        SyncState,
        FieldKind,
        ChoiceOption,
        FieldDef,
        Accepts,
        AttachmentDef,
        Capture,
        RuleKind,
        Rule,
        Step,
        Service,
        EnrollmentView,
        MemberView,
        StartState,
        Task,
        TaskProgress,
        RefusedRecord,
        RefusedView,
        AsideView,
        Purpose,
        Outcome,
        Assignment,
        OutcomeInput,
        RecordedOutcome,
        Plan,
        OpenVisit,
        VisitWhen,
        Missing,
        VisitRow,
        PlanView,
        Visitor,
        VisitCount,
        VisitOverview,
    );
    // The codes themselves, for the window's test that each has a message in every
    // language (a type alone does not exist at run time).
    out.push_str(
        "\n/** Every error code, for the test that each has text in every language. */\n\
         export const ERROR_CODES: readonly ErrorCode[] = [\n",
    );
    for code in ErrorCode::all() {
        out.push_str(&format!("  \"{code}\",\n"));
    }
    out.push_str("];\n");
    out
}

#[test]
fn the_windows_types_are_the_ones_generated_from_the_rust_types() {
    let path = generated_file();
    let wanted = declarations();
    if std::env::var_os(BLESS).is_some() {
        std::fs::write(&path, &wanted).expect("write the generated types");
        return;
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == wanted,
        "{} is not what the Rust types make: run `{BLESS}=1 cargo test --workspace --test contract`",
        path.display()
    );
}
