//! # doorstep-power-cut
//!
//! A SQLite VFS for the reliability tests (RELIABILITY.md: power loss, I/O errors). It
//! wraps the platform's own VFS ("unix"), passes every call through to it, and for the
//! files under one watched folder remembers what was written since each file's last
//! sync. At one chosen write, sync, truncation or deletion of a watched file (the plan's
//! `at`, counting from 1):
//!
//! - **power cut** ([`Fault::PowerCut`]): every watched file is set to what a disk could
//!   hold after losing power there — what was synced, plus, as the plan's seed picks,
//!   none of the unsynced writes, the first of them in order with the last one torn at a
//!   512-byte sector, or any subset of their sectors (the page cache written back in any
//!   order, each sector holding one of the versions written to it) — the WAL index
//!   (`-shm`, memory in all but name) is lost, and the process ends at once with
//!   [`POWER_CUT_EXIT`], so that nothing after the cut reaches the disk;
//! - **I/O error** ([`Fault::IoError`]): that call and the `count - 1` after it fail with
//!   SQLite's I/O error and do nothing; then the disk works again.
//!
//! A deletion is durable at once (SQLite deletes a WAL only once it is checkpointed and
//! synced), and a file created since the plan began survives a cut only if it was synced
//! (the unix VFS syncs the folder at a new journal's first sync) or some of its writes
//! are kept.
//!
//! Files outside the watched folder (another process's server, temporary files) pass
//! through untouched, so one test process may arm this and still run a server.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod vfs;

/// How a process whose power was cut ends (the disk already holding only what survived).
pub const POWER_CUT_EXIT: i32 = 86;

/// The environment variable a child process reads its [`Plan`] from ([`Plan::to_env`]).
pub const PLAN_ENV: &str = "DOORSTEP_STORAGE_FAULT";

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Power is lost; `seed` picks which unsynced writes reached the disk.
    PowerCut { seed: u64 },
    /// `count` calls in a row fail with an I/O error.
    IoError { count: u64 },
}

/// Which call of the watched files goes wrong, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The write, sync, truncation or deletion (counting from 1) where the fault strikes.
    pub at: u64,
    pub fault: Fault,
}

impl Plan {
    /// `power:<at>:<seed>` or `ioerror:<at>:<count>`.
    pub fn parse(text: &str) -> Result<Plan, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let number = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("{PLAN_ENV}: {s:?} is not a number"))
        };
        match parts[..] {
            ["power", at, seed] => Ok(Plan {
                at: number(at)?,
                fault: Fault::PowerCut {
                    seed: number(seed)?,
                },
            }),
            ["ioerror", at, count] => Ok(Plan {
                at: number(at)?,
                fault: Fault::IoError {
                    count: number(count)?.max(1),
                },
            }),
            _ => Err(format!(
                "{PLAN_ENV}: expected power:<at>:<seed> or ioerror:<at>:<count>, not {text:?}"
            )),
        }
    }

    /// The value of [`PLAN_ENV`] that [`Plan::parse`] reads back.
    pub fn to_env(&self) -> String {
        match self.fault {
            Fault::PowerCut { seed } => format!("power:{}:{seed}", self.at),
            Fault::IoError { count } => format!("ioerror:{}:{count}", self.at),
        }
    }
}

/// The error of [`install`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallError(String);

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InstallError {}

/// Makes this VFS SQLite's default (once per process; [`install`] does it too). A
/// connection opened before keeps the VFS it was opened with: register before opening
/// the databases a later [`install`] is to watch.
pub fn register() -> Result<(), InstallError> {
    vfs::register().map_err(InstallError)
}

/// Makes this VFS SQLite's default ([`register`]) and arms `plan` for the files under
/// `dir`, replacing any earlier plan. A watched file's contents when first opened (or
/// when the plan is armed, for a file already open) count as synced.
pub fn install(dir: &Path, plan: Plan) -> Result<(), InstallError> {
    register()?;
    let dir =
        std::fs::canonicalize(dir).map_err(|e| InstallError(format!("the watched folder: {e}")))?;
    *watch() = Some(Watch {
        dir,
        plan,
        calls: 0,
        failed: 0,
        files: HashMap::new(),
    });
    Ok(())
}

/// Stops watching: every call passes through again.
pub fn disarm() {
    *watch() = None;
}

/// How many calls of the watched files were counted, and how many were failed, since
/// [`install`].
pub fn figures() -> (u64, u64) {
    watch().as_ref().map_or((0, 0), |w| (w.calls, w.failed))
}

/// A call that changes a watched file.
#[derive(Debug)]
pub(crate) enum Call {
    Write { offset: u64, bytes: Vec<u8> },
    Truncate(u64),
    Sync,
    Delete,
}

impl Call {
    fn io_error(&self) -> i32 {
        use rusqlite::ffi;
        match self {
            Call::Write { .. } => ffi::SQLITE_IOERR_WRITE,
            Call::Truncate(_) => ffi::SQLITE_IOERR_TRUNCATE,
            Call::Sync => ffi::SQLITE_IOERR_FSYNC,
            Call::Delete => ffi::SQLITE_IOERR_DELETE,
        }
    }
}

/// What is known of one watched file: its synced contents (`None`: it may not exist
/// after a cut) and what was written since.
#[derive(Debug, Default)]
struct Image {
    synced: Option<Vec<u8>>,
    unsynced: Vec<Call>,
}

struct Watch {
    dir: PathBuf,
    plan: Plan,
    calls: u64,
    failed: u64,
    files: HashMap<PathBuf, Image>,
}

static WATCH: Mutex<Option<Watch>> = Mutex::new(None);

fn watch() -> std::sync::MutexGuard<'static, Option<Watch>> {
    WATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// When `path` is watched and first seen, its contents are read as synced: called
/// before the file is opened, which may create it.
pub(crate) fn opening(path: &Path) {
    if let Some(w) = watch().as_mut() {
        w.image(path);
    }
}

impl Watch {
    /// The image of `path` if it is watched: read from the disk when first seen.
    fn image(&mut self, path: &Path) -> Option<&mut Image> {
        if !path.starts_with(&self.dir) {
            return None;
        }
        Some(self.files.entry(path.to_owned()).or_insert_with(|| Image {
            synced: std::fs::read(path).ok(),
            unsynced: Vec::new(),
        }))
    }
}

/// Counts `call` on `path` if it is watched: the plan's fault strikes, or `perform` does
/// the call (returning SQLite's result code) and, when it succeeded, its effect is
/// recorded.
pub(crate) fn call(path: &Path, call: Call, perform: impl FnOnce() -> i32) -> i32 {
    let mut guard = watch();
    let Some(w) = guard.as_mut().filter(|w| path.starts_with(&w.dir)) else {
        drop(guard);
        return perform();
    };
    w.image(path);
    w.calls += 1;
    match w.plan.fault {
        Fault::PowerCut { seed } if w.calls == w.plan.at => cut(w, seed),
        Fault::IoError { count } if (w.plan.at..w.plan.at + count).contains(&w.calls) => {
            w.failed += 1;
            return call.io_error();
        }
        _ => {}
    }
    let rc = perform();
    if rc != rusqlite::ffi::SQLITE_OK {
        return rc;
    }
    match call {
        Call::Delete => {
            w.files.remove(path);
        }
        Call::Sync => {
            let image = w.files.entry(path.to_owned()).or_default();
            let mut synced = image.synced.take().unwrap_or_default();
            for call in image.unsynced.drain(..) {
                apply(&mut synced, &call, &mut |_| true);
            }
            image.synced = Some(synced);
        }
        write_or_truncate => w
            .files
            .entry(path.to_owned())
            .or_default()
            .unsynced
            .push(write_or_truncate),
    }
    rc
}

/// Which of the unsynced writes reach the disk when power is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loss {
    /// None of them.
    All,
    /// The first few in order, the last of those torn at a sector.
    Torn,
    /// Any subset of their sectors.
    Scattered,
}

const SECTOR: u64 = 512;

/// `call`'s effect on `contents`, each 512-byte sector of a write kept when `keep(its
/// index)` says so (a truncation is one "sector").
fn apply(contents: &mut Vec<u8>, call: &Call, keep: &mut dyn FnMut(u64) -> bool) {
    match call {
        Call::Truncate(len) => {
            if keep(0) {
                contents.resize(*len as usize, 0);
            }
        }
        Call::Write { offset, bytes } => {
            let (mut at, mut index, end) = (*offset, 0, offset + bytes.len() as u64);
            while at < end {
                let next = ((at / SECTOR + 1) * SECTOR).min(end);
                if keep(index) {
                    let (from, to) = ((at - offset) as usize, (next - offset) as usize);
                    if contents.len() < next as usize {
                        contents.resize(next as usize, 0);
                    }
                    contents[at as usize..next as usize].copy_from_slice(&bytes[from..to]);
                }
                at = next;
                index += 1;
            }
        }
        Call::Sync | Call::Delete => {}
    }
}

fn sectors(call: &Call) -> u64 {
    match call {
        Call::Write { offset, bytes } => {
            let end = offset + bytes.len() as u64;
            end.div_ceil(SECTOR) - offset / SECTOR
        }
        _ => 1,
    }
}

/// A small deterministic generator, so that a cut's seed replays it.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

impl Image {
    /// The file after a cut: `None` if it does not exist.
    fn after_cut(&self, loss: Loss, rng: &mut XorShift) -> Option<Vec<u8>> {
        let mut contents = self.synced.clone();
        let kept = match loss {
            Loss::All => 0,
            Loss::Torn => rng.below(self.unsynced.len() as u64 + 1) as usize,
            Loss::Scattered => self.unsynced.len(),
        };
        for (i, call) in self.unsynced[..kept].iter().enumerate() {
            let torn_at = (loss == Loss::Torn && i + 1 == kept).then(|| rng.below(sectors(call)));
            let mut keep = |sector: u64| match (loss, torn_at) {
                (_, Some(torn)) => sector < torn,
                (Loss::Scattered, None) => rng.below(2) == 0,
                _ => true,
            };
            let mut file = contents.take().unwrap_or_default();
            apply(&mut file, call, &mut keep);
            contents = Some(file);
        }
        contents
    }
}

/// Power is lost: the watched files become what survived, and the process ends.
fn cut(w: &Watch, seed: u64) -> ! {
    let mut rng = XorShift(seed | 1);
    let loss = [Loss::All, Loss::Torn, Loss::Scattered][rng.below(3) as usize];
    let mut result = Ok(());
    for (path, image) in &w.files {
        let written = match image.after_cut(loss, &mut rng) {
            Some(contents) => std::fs::write(path, contents),
            None => std::fs::remove_file(path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            }),
        };
        result = result.and(written);
    }
    if let Ok(entries) = std::fs::read_dir(&w.dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with("-shm") {
                result = result.and(std::fs::remove_file(entry.path()));
            }
        }
    }
    if let Err(e) = result {
        eprintln!("power cut: the files could not be set to what survived: {e}");
        vfs::exit_now(POWER_CUT_EXIT + 1);
    }
    vfs::exit_now(POWER_CUT_EXIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(offset: u64, bytes: &[u8]) -> Call {
        Call::Write {
            offset,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn plans_read_back_what_they_write() {
        for plan in [
            Plan {
                at: 7,
                fault: Fault::PowerCut { seed: 99 },
            },
            Plan {
                at: 1,
                fault: Fault::IoError { count: 3 },
            },
        ] {
            assert_eq!(Plan::parse(&plan.to_env()), Ok(plan));
        }
        assert!(Plan::parse("power:x:1").is_err());
        assert!(Plan::parse("flood:1:1").is_err());
    }

    #[test]
    fn a_write_is_kept_by_whole_sectors() {
        let mut file = vec![1u8; 600];
        let call = write(500, &[2u8; 600]);
        assert_eq!(sectors(&call), 3);
        apply(&mut file, &call, &mut |s| s != 1);
        assert_eq!(file.len(), 1100);
        assert!(file[..500].iter().all(|b| *b == 1));
        assert!(file[500..512].iter().all(|b| *b == 2));
        assert!(file[512..600].iter().all(|b| *b == 1), "sector 1 dropped");
        assert!(file[600..1024].iter().all(|b| *b == 0), "sector 1 dropped");
        assert!(file[1024..].iter().all(|b| *b == 2));
    }

    #[test]
    fn a_cut_keeps_what_was_synced_and_at_most_what_was_written_after() {
        let image = Image {
            synced: Some(vec![1u8; 1024]),
            unsynced: vec![
                write(0, &[2u8; 1024]),
                Call::Truncate(512),
                write(512, &[3u8; 512]),
            ],
        };
        let mut rng = XorShift(5);
        assert_eq!(image.after_cut(Loss::All, &mut rng), image.synced);
        for _ in 0..200 {
            for loss in [Loss::Torn, Loss::Scattered] {
                let file = image.after_cut(loss, &mut rng).expect("exists");
                assert!(file.len() == 512 || file.len() == 1024, "{loss:?}");
                assert!(file[..512].iter().all(|b| *b == 1 || *b == 2), "{loss:?}");
                assert!(
                    file[512..].iter().all(|b| [1, 2, 3].contains(b)),
                    "{loss:?}"
                );
            }
        }
        let new_file = Image {
            synced: None,
            unsynced: vec![write(0, &[4u8; 100])],
        };
        assert_eq!(new_file.after_cut(Loss::All, &mut rng), None);
    }
}
