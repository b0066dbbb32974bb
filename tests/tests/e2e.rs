//! End-to-end tests through the real app window: `tauri-driver` + `WebKitWebDriver`
//! under Xvfb. Ignored by a plain `cargo test` because they need a display, the built
//! app and tauri-driver; `make test` runs them with `--ignored` under `xvfb-run`.
//!
//! - `register_resident`: a volunteer registers a resident, sees them listed, bad input
//!   is refused at the field in the chosen language, and the resident is still listed
//!   after the app is closed and opened again; a screenshot goes to `target/e2e/`.

//! - `field_workflow`: two app windows and a sync server: offline work, sync by itself,
//!   a conflict settled on one device and seen on the other, a draft surviving a kill.
//! - `lock`: the idle lock, unlocking with the keyboard, and the wait after wrong PINs.
//! - `supervisor_console`: a volunteer's and a supervisor's window: the log down to the
//!   fields, return with a comment, the fix, approval, overview, roster import, masked
//!   and PIN-revealed exports, and a revoked tablet that says why it cannot sync.
//! - `resident_mode`: large type, contrast, target sizes and axe-core on every screen of
//!   resident mode, consent declined and given, read-aloud's message, leaving by PIN.
//! - `slow_sync`: the window answers while a sync request crawls through a slow proxy,
//!   and what was registered meanwhile goes up with the next sync.
//! - `log_stop`: a server log that lost entries stops the supervisor's tablet, whose
//!   window says why and shows the evidence, and goes on only with the PIN.
//! - `camera`: the pension certification's camera on WebKit's synthetic camera: shut
//!   until face consent, then live, judging its feed, a photo taken by hand attached.
//! - `work_planning`: a supervisor assigns a resident's visit in one window; it shows in
//!   the volunteer's day in the other, whose outcome and next visit come back.
//! - `shared_tablet`: two volunteers on one tablet, each with their own code and PIN;
//!   the log names each; one removed by the supervisor is locked out at the next sync.
//! - `unsent`: a record the server refuses is counted in the top bar and shown with why
//!   and what to do, while the sync itself completes.

mod e2e {
    mod camera;
    mod field_workflow;
    mod lock;
    mod log_stop;
    mod register_resident;
    mod resident_mode;
    mod shared_tablet;
    mod slow_sync;
    mod supervisor_console;
    mod unsent;
    mod work_planning;
}
