//! Cross-crate integration tests against real processes on loopback.
//!
//! - `server_health`: the `doorstep-server` binary starts, serves `/healthz`, and refuses
//!   an unusable listen address with a clear message.
//! - `device_store`: the device API as the app uses it — register, refuse bad input,
//!   reopen the same data folder and find everything again.

//! - `api_contract`: the API document is kept: protected routes refuse without a token,
//!   and generated requests get only documented answers.
//! - `io_errors`: the server's database fails writes and syncs at random points (a
//!   fault-injecting VFS): each sync caught is refused with a retryable 503, nothing is
//!   half stored, and the next sync after the fault takes everything.
//! - `layout`: no import cycles, no file over 800 lines, a thin shell.
//! - `read_aloud`: a guided step synthesized in Mandarin is audible and of a plausible
//!   length (espeak-ng and sox).

mod integration {
    mod api_contract;
    mod database_restart;
    mod device_store;
    mod disk_full;
    mod io_errors;
    mod layout;
    mod read_aloud;
    mod server_health;
}
