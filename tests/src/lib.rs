//! # doorstep-tests
//!
//! Helpers for tests that cross crates and processes: locating the workspace's built
//! binaries, free loopback ports, a `doorstep-server` child process (or a server inside
//! the test process, [`in_process`]), and a `tauri-driver`
//! WebDriver session on the real app window with its own data folder.
//!
//! Everything a test starts lives in a temporary folder and on 127.0.0.1; child processes
//! are killed when their handle drops.

pub mod fleet;
pub mod harness;
pub mod in_process;
pub mod log_tamper;
pub mod pg_cluster;
pub mod principal;
pub mod process;
pub mod screen_check;
pub mod signed;

pub mod window;

/// The fixed database key of the crash test's writer and checker (never used outside tests).
pub const CRASH_TEST_KEY: [u8; 32] = [0x5a; 32];

/// How many residents each roster the crash test's writer imports holds.
pub const CRASH_ROSTER_ROWS: u64 = 5;

/// The name every resident of the crash writer's roster `n` has (`n` in Chinese digits),
/// by which the checker counts them.
pub fn crash_roster_name(n: u64) -> String {
    let digits: String = n
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .filter_map(|d| "零一二三四五六七八九".chars().nth(d as usize))
        .collect();
    format!("名册{digits}")
}

/// A synthetic portrait (a drawn oval, no person): a valid PNG that renders, for the
/// photos the tests attach.
pub const SAMPLE_PHOTO: &[u8] = include_bytes!("../data/face.png");

pub use process::{
    ServerProcess, admin, free_port, raw_async_client, raw_client, target_dir, workspace_binary,
};
pub use window::{AppWindow, Driver, with_deadline, with_deadline_of};
