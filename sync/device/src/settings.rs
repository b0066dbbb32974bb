//! The app's settings from its environment: where its data lives, which catalog it
//! uses, a server to enroll with at start, and the lengths tests shorten. Each variable
//! is optional; a blank or malformed one is as if it were not set, so a typo in a demo's
//! environment never stops the app, it falls back to the default.
//!
//! ```
//! use doorstep_device::settings::{IDLE_LOCK_ENV, Settings};
//! let s = Settings::from_lookup(|k| (k == IDLE_LOCK_ENV).then(|| "5".into()));
//! assert_eq!(s.idle_lock.as_secs(), 5);
//! assert_eq!(s.sync_interval.as_secs(), 30);
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::device::Device;
use crate::error::DeviceError;
use crate::session::DEFAULT_IDLE;
use crate::sync::Enrollment;

/// The data folder (the device's database and the window's storage).
pub const DATA_DIR_ENV: &str = "DOORSTEP_DATA_DIR";
/// A folder with a service catalog to use instead of the built-in one.
pub const CATALOG_DIR_ENV: &str = "DOORSTEP_CATALOG_DIR";
/// An enrollment text (or, with [`SERVER_URL_ENV`], a bare one-time code) the app trades
/// for its sync identity at start, when it has none yet (`make run` makes one for a demo
/// committee).
pub const ENROLL_CODE_ENV: &str = "DOORSTEP_ENROLL_CODE";
/// The sync server to enroll with, when the enrollment text does not name it.
pub const SERVER_URL_ENV: &str = "DOORSTEP_SERVER_URL";
/// The folder exports are saved in (instead of the person's Downloads folder).
pub const EXPORT_DIR_ENV: &str = "DOORSTEP_EXPORT_DIR";
/// Seconds without a command before the app locks itself.
pub const IDLE_LOCK_ENV: &str = "DOORSTEP_IDLE_LOCK_SECS";
/// Seconds between background syncs.
pub const SYNC_INTERVAL_ENV: &str = "DOORSTEP_SYNC_INTERVAL_SECS";
/// `off` turns read-aloud off (tests without a sound device).
pub const TTS_ENV: &str = "DOORSTEP_TTS";
/// `mock` gives the window WebKit's synthetic camera instead of the device's own
/// (end-to-end tests on a machine with no camera).
pub const CAMERA_ENV: &str = "DOORSTEP_CAMERA";

/// The background sync's interval unless the environment says otherwise.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(30);

/// A server and one-time code to enroll with at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollAtStart {
    pub server_url: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub data_dir: Option<PathBuf>,
    pub catalog_dir: Option<PathBuf>,
    pub enroll: Option<EnrollAtStart>,
    pub export_dir: Option<PathBuf>,
    pub idle_lock: Duration,
    pub sync_interval: Duration,
    pub speech_off: bool,
    pub mock_camera: bool,
}

impl Settings {
    /// The settings of this process's environment.
    pub fn from_env() -> Settings {
        Settings::from_lookup(|key| std::env::var_os(key))
    }

    /// The settings `get` gives for each variable (tests pass their own).
    pub fn from_lookup(get: impl Fn(&str) -> Option<OsString>) -> Settings {
        let text = |key: &str| {
            get(key)
                .and_then(|v| v.into_string().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let folder = |key: &str| get(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let seconds = |key: &str, default: Duration| {
            text(key)
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&s| s > 0)
                .map_or(default, Duration::from_secs)
        };
        Settings {
            data_dir: folder(DATA_DIR_ENV),
            catalog_dir: folder(CATALOG_DIR_ENV),
            // The code is the whole enrollment text (which names the server), or a bare
            // code beside the server's address.
            enroll: text(ENROLL_CODE_ENV).map(|code| EnrollAtStart {
                server_url: text(SERVER_URL_ENV).unwrap_or_default(),
                code,
            }),
            export_dir: folder(EXPORT_DIR_ENV),
            idle_lock: seconds(IDLE_LOCK_ENV, DEFAULT_IDLE),
            sync_interval: seconds(SYNC_INTERVAL_ENV, DEFAULT_SYNC_INTERVAL),
            speech_off: text(TTS_ENV).is_some_and(|v| v == "off"),
            mock_camera: text(CAMERA_ENV).is_some_and(|v| v == "mock"),
        }
    }

    /// Where exports go: the folder the environment names, else `上门办导出` in the
    /// person's Downloads folder when there is one, else `exports` in the data folder.
    pub fn exports_dir(&self, downloads: Option<&Path>, data_dir: &Path) -> PathBuf {
        match (&self.export_dir, downloads) {
            (Some(dir), _) => dir.clone(),
            (None, Some(downloads)) if downloads.is_dir() => downloads.join("上门办导出"),
            _ => data_dir.join("exports"),
        }
    }
}

/// How supervisors tell this tablet from others in their list of devices: the
/// machine's name where it has a real one.
pub fn device_label(hostname: Option<&str>) -> String {
    hostname
        .map(|h| h.trim().chars().take(60).collect::<String>())
        .filter(|h| !h.is_empty() && h != "localhost")
        .map_or_else(|| "上门办".to_owned(), |h| format!("上门办 · {h}"))
}

/// This machine's name (Linux), for [`device_label`].
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
}

impl Device {
    /// Enrolls with `at` unless the device is enrolled already (then `None`: a demo's
    /// code is only needed once).
    pub fn enroll_at_start(
        &mut self,
        at: &EnrollAtStart,
        label: &str,
    ) -> Result<Option<Enrollment>, DeviceError> {
        if self.enrollment()?.is_some() {
            return Ok(None);
        }
        let text = doorstep_core::server_identity::EnrollText::from_form(&at.server_url, &at.code)
            .map_err(|e| DeviceError::EnrollText(e.to_string()))?;
        self.enroll(&text, label).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|key| {
            vars.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn nothing_set_means_the_defaults() {
        let s = settings(&[]);
        assert_eq!(s.data_dir, None);
        assert_eq!(s.enroll, None);
        assert_eq!(s.idle_lock, DEFAULT_IDLE);
        assert_eq!(s.sync_interval, DEFAULT_SYNC_INTERVAL);
        assert!(!s.speech_off);
        assert!(!s.mock_camera);
    }

    #[test]
    fn blank_or_malformed_values_fall_back_to_the_defaults() {
        let s = settings(&[
            (DATA_DIR_ENV, ""),
            (IDLE_LOCK_ENV, "ten"),
            (SYNC_INTERVAL_ENV, "0"),
            (TTS_ENV, "maybe"),
            (ENROLL_CODE_ENV, "  "),
            (SERVER_URL_ENV, "http://127.0.0.1:1"),
        ]);
        assert_eq!(s.data_dir, None);
        assert_eq!(s.idle_lock, DEFAULT_IDLE);
        assert_eq!(s.sync_interval, DEFAULT_SYNC_INTERVAL);
        assert!(!s.speech_off);
        assert_eq!(s.enroll, None, "a server without a code is none");
    }

    #[test]
    fn values_set_are_used() {
        let s = settings(&[
            (DATA_DIR_ENV, "/tmp/doorstep-test"),
            (IDLE_LOCK_ENV, " 4 "),
            (SYNC_INTERVAL_ENV, "2"),
            (TTS_ENV, "off"),
            (CAMERA_ENV, "mock"),
            (ENROLL_CODE_ENV, "ABCD-1234"),
            (SERVER_URL_ENV, "http://127.0.0.1:1"),
        ]);
        assert_eq!(s.data_dir, Some(PathBuf::from("/tmp/doorstep-test")));
        assert_eq!(s.idle_lock, Duration::from_secs(4));
        assert_eq!(s.sync_interval, Duration::from_secs(2));
        assert!(s.speech_off);
        assert!(s.mock_camera);
        assert_eq!(
            s.enroll,
            Some(EnrollAtStart {
                server_url: "http://127.0.0.1:1".into(),
                code: "ABCD-1234".into()
            })
        );
    }

    #[test]
    fn exports_go_where_the_environment_says_else_downloads_else_the_data_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let none = settings(&[]);
        assert_eq!(
            none.exports_dir(Some(dir.path()), &data),
            dir.path().join("上门办导出")
        );
        let missing = dir.path().join("no-such-folder");
        assert_eq!(
            none.exports_dir(Some(&missing), &data),
            data.join("exports")
        );
        assert_eq!(none.exports_dir(None, &data), data.join("exports"));
        let set = settings(&[(EXPORT_DIR_ENV, "/tmp/exports")]);
        assert_eq!(
            set.exports_dir(Some(dir.path()), &data),
            PathBuf::from("/tmp/exports")
        );
    }

    #[test]
    fn a_tablet_is_named_by_its_machine_name_when_it_has_a_real_one() {
        assert_eq!(device_label(Some("tablet-07\n")), "上门办 · tablet-07");
        assert_eq!(device_label(Some("localhost")), "上门办");
        assert_eq!(device_label(Some(" ")), "上门办");
        assert_eq!(device_label(None), "上门办");
        assert_eq!(device_label(Some(&"x".repeat(100))).chars().count(), 6 + 60);
    }
}
