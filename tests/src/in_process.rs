//! A sync server inside the test process: the server's own router over its SQLite store,
//! called directly (tower's `oneshot`) rather than through a socket, so that many devices
//! and a server run in one process and a sync costs what the device and the store cost.
//! The real-socket tests stay; this is for campaigns of thousands of cases.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use doorstep_core::catalog::Catalog;
use doorstep_core::protocol::{self, Limits, Role};
use doorstep_device::clock::{Clock, SetClock};
use doorstep_device::secret::DbKey;
use doorstep_device::sync::{HttpAnswer, NetworkError};
use doorstep_device::{DATABASE_FILE, Device, DeviceError, Transport};
use doorstep_server::store::{Database, Store};
use doorstep_server::{AppState, now_ms, router};
use tower::ServiceExt;

use crate::fleet::{TestDevice, mock_keyring};

/// The address devices are enrolled with; nothing ever connects to it.
pub const IN_PROCESS_URL: &str = "http://in-process.invalid";

/// A temporary folder in memory (`/dev/shm`) where there is one: the campaign checks
/// merging, not durability (the crash tests do that), and a disk's fsyncs would be most
/// of its time.
pub fn scratch_dir() -> anyhow::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    Ok(if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("doorstep-")
            .tempdir_in(shm)?
    } else {
        tempfile::tempdir()?
    })
}

/// The database key of every in-process device (their keyring is a test's anyway).
const DEVICE_KEY: [u8; 32] = [0x5A; 32];

/// A server whose requests are function calls.
pub struct InProcessServer {
    dir: tempfile::TempDir,
    /// An empty device database with its schema, copied for each new device: creating
    /// the schema was half the cost of a new device, and a campaign makes thousands.
    template: tempfile::TempDir,
    /// The built-in catalog, read once.
    catalog: Catalog,
    router: Router,
    /// A second server over the same database, as two processes behind one address are.
    second: Router,
    runtime: Arc<tokio::runtime::Runtime>,
    /// A second handle on the same SQLite file, for what the command line would do
    /// (committees, enrollment codes).
    admin: Mutex<Store>,
    /// The server's clock, when a test sets the time (the system's otherwise).
    clock: Option<SetClock>,
}

impl std::fmt::Debug for InProcessServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessServer").finish_non_exhaustive()
    }
}

impl InProcessServer {
    /// A server on a fresh SQLite store in a temporary folder.
    pub fn start() -> anyhow::Result<InProcessServer> {
        InProcessServer::start_on(None, Limits::default())
    }

    /// A server whose time is `clock`'s, as the devices a test gives the same clock,
    /// with `limits` on what a request may carry.
    pub fn start_with(clock: SetClock, limits: Limits) -> anyhow::Result<InProcessServer> {
        InProcessServer::start_on(Some(clock), limits)
    }

    fn start_on(clock: Option<SetClock>, limits: Limits) -> anyhow::Result<InProcessServer> {
        let dir = scratch_dir()?;
        let template = scratch_dir()?;
        drop(doorstep_device::store::Store::open(
            &template.path().join(DATABASE_FILE),
            &DbKey::from_bytes(DEVICE_KEY),
        )?);
        let database = Database::Sqlite(dir.path().to_owned());
        let store = Store::open(&database)?;
        let admin = Store::open(&database)?;
        let second_store = Store::open(&database)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("a runtime for the in-process server")?;
        let state = |store: Store| {
            let state = AppState::new(store, limits);
            match &clock {
                Some(clock) => {
                    let clock = clock.clone();
                    state.with_clock(Arc::new(move || clock.now_ms()))
                }
                None => state,
            }
        };
        Ok(InProcessServer {
            dir,
            template,
            catalog: doorstep_device::catalog::builtin()?,
            router: router(state(store)),
            second: router(state(second_store)),
            runtime: Arc::new(runtime),
            admin: Mutex::new(admin),
            clock,
        })
    }

    /// The folder of the server's SQLite database.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Whether every committee's log chain and checkpoints verify, as `doorstep-server
    /// log verify` checks.
    pub fn log_intact(&self) -> anyhow::Result<bool> {
        Ok(self.admin().log_verify(None)?.is_ok())
    }

    /// The server's time.
    pub fn now_ms(&self) -> i64 {
        self.clock.as_ref().map_or_else(now_ms, |c| c.now_ms())
    }

    fn admin(&self) -> std::sync::MutexGuard<'_, Store> {
        self.admin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a committee.
    pub fn committee(&self, id: &str) -> anyhow::Result<()> {
        self.admin()
            .committee_add(id, "测试村委会", "0790-1234567", self.now_ms())?;
        Ok(())
    }

    /// Notes, as an accepted upload would, that a record of `committee` refers to the
    /// attachment `sha256`: for tests of the attachment upload itself, without a record.
    pub fn refer_to_blob(&self, sha256: &str, committee: &str) -> anyhow::Result<()> {
        self.admin().execute(
            "INSERT INTO blob_refs (sha256, committee_id) VALUES (?1, ?2)",
            &[sha256.into(), committee.into()],
        )?;
        Ok(())
    }

    /// A one-time enrollment code for `name` in `committees`, valid for an hour.
    pub fn enrollment_code(
        &self,
        committees: &[&str],
        role: Role,
        name: &str,
    ) -> anyhow::Result<String> {
        let now = self.now_ms();
        let committees: Vec<String> = committees.iter().map(|c| (*c).to_owned()).collect();
        Ok(self
            .admin()
            .enrollment_create(&committees, role, name, now, now + 3_600_000)?)
    }

    /// Revokes a device, as `doorstep-server device revoke` does.
    pub fn revoke(&self, device_id: &str) -> anyhow::Result<()> {
        self.admin().device_revoke(device_id, self.now_ms())?;
        Ok(())
    }

    /// Enrolls `device` again (a tablet found after it was revoked) with a new code.
    pub fn enroll_again(
        &self,
        device: &mut Device,
        committee: &str,
        role: Role,
        name: &str,
    ) -> anyhow::Result<()> {
        let code = self.enrollment_code(&[committee], role, name)?;
        let text = self.enrollment_text(&code)?;
        device.enroll_with(&mut self.transport(), &text, "test tablet")?;
        Ok(())
    }

    /// Whether the server holds the change `hash` (hex) of record `doc` (searched by the
    /// two together, the table's unique index: a campaign asks it of a server holding
    /// millions of changes).
    pub fn has_change(&self, doc: &str, hash: &str) -> anyhow::Result<bool> {
        let rows = self.admin().query(
            "SELECT 1 FROM changes WHERE doc_id = ?1 AND hash = ?2",
            &[doc.into(), hash.into()],
        )?;
        Ok(!rows.is_empty())
    }

    /// A transport to this server.
    pub fn transport(&self) -> RouterTransport {
        self.transport_via(0)
    }

    /// A transport to the first server (0) or the second one over the same database.
    pub fn transport_via(&self, server: usize) -> RouterTransport {
        RouterTransport {
            router: if server == 0 {
                self.router.clone()
            } else {
                self.second.clone()
            },
            runtime: Arc::clone(&self.runtime),
        }
    }

    /// A new device for `volunteer`, enrolled in `committee`: a real encrypted store
    /// (from the template) with an actor of its own.
    pub fn device(&self, committee: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        self.device_as(committee, Role::Volunteer, volunteer)
    }

    /// A new device for `name` with `role`, enrolled in `committee`, on the server's
    /// clock when it has one.
    pub fn device_as(&self, committee: &str, role: Role, name: &str) -> anyhow::Result<TestDevice> {
        let code = self.enrollment_code(&[committee], role, name)?;
        Ok(self.device_with_code(&code)?)
    }

    /// A new device enrolled with `code` (the server's refusal, when it refuses it).
    pub fn device_with_code(&self, code: &str) -> Result<TestDevice, DeviceError> {
        mock_keyring();
        let dir = scratch_dir().map_err(|e| DeviceError::DataDir {
            path: std::env::temp_dir(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let copied = std::fs::copy(
            self.template.path().join(DATABASE_FILE),
            dir.path().join(DATABASE_FILE),
        );
        copied.map_err(|source| DeviceError::DataDir {
            path: dir.path().to_owned(),
            source,
        })?;
        let mut device = Device::open_with_key(
            dir.path(),
            self.catalog.clone(),
            &DbKey::from_bytes(DEVICE_KEY),
        )?;
        if let Some(clock) = &self.clock {
            device.set_clock(Arc::new(clock.clone()));
        }
        let text = self
            .enrollment_text(code)
            .map_err(|e| DeviceError::Network(e.to_string()))?;
        device.enroll_with(&mut self.transport(), &text, "test tablet")?;
        Ok(TestDevice { device, dir })
    }

    /// The enrollment text of `code`: this server's address and its key's pin.
    pub fn enrollment_text(
        &self,
        code: &str,
    ) -> anyhow::Result<doorstep_core::server_identity::EnrollText> {
        Ok(doorstep_core::server_identity::EnrollText {
            server: Some(IN_PROCESS_URL.to_owned()),
            server_key: Some(self.admin().server_key_pin()?),
            code: code.to_owned(),
        })
    }
}

/// Requests as calls into the server's router.
#[derive(Clone)]
pub struct RouterTransport {
    router: Router,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for RouterTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterTransport").finish_non_exhaustive()
    }
}

impl Transport for RouterTransport {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(auth) = auth {
            request = request
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", auth.token.as_str()),
                )
                .header(protocol::COUNTER_HEADER, auth.counter.to_string())
                .header(protocol::SIGNATURE_HEADER, auth.signature.as_str());
        }
        let bytes_sent = body.len() as u64;
        let request = request
            .body(Body::from(body))
            .map_err(|e| NetworkError::Unreachable(e.to_string()))?;
        let router = self.router.clone();
        let (status, last_counter, body) = self
            .runtime
            .block_on(async move {
                let response = router.oneshot(request).await?;
                let status = response.status().as_u16();
                let last_counter = response
                    .headers()
                    .get(protocol::COUNTER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                anyhow::Ok((status, last_counter, body.to_vec()))
            })
            .map_err(|e| NetworkError::Unreachable(e.to_string()))?;
        Ok(HttpAnswer {
            status,
            bytes_received: body.len() as u64,
            body,
            bytes_sent,
            last_counter,
        })
    }
}
