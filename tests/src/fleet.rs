//! Many devices against one real server on loopback: enrollment through the server's
//! own command line, devices in temporary folders, and a transport that loses, repeats
//! and delays messages on purpose.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use doorstep_device::sync::{HttpAnswer, NetworkError};
use doorstep_device::{Device, HttpTransport, RetryPolicy, SyncReport, Transport};

use doorstep_core::server_identity::EnrollText;
use doorstep_device::sync::ServerTrust;

use crate::process::{ServerProcess, admin};

/// Keys and tokens go to an in-memory keyring in tests, never a person's keyring:
/// keyring-core's sample store, a hash map. (Its mock store is a list searched from the
/// start on every look-up and never shortened: a campaign making a million devices in one
/// process spent two thirds of its time there by the 12,000th case.)
pub fn mock_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(store) = keyring_core::sample::Store::new() {
            keyring_core::set_default_store(store);
        }
    });
}

/// Retries without the app's patient waits.
pub const FAST_RETRY: RetryPolicy = RetryPolicy {
    attempts: 6,
    first_wait: Duration::from_millis(2),
    max_wait: Duration::from_millis(20),
};

/// An enrollment request's JSON as a device makes it: the code with a fresh public key
/// and a fresh actor id (16 random bytes, hex), for clients that are not a `Device`.
pub fn enroll_body(code: &str) -> anyhow::Result<String> {
    let key = doorstep_device::secret::DeviceKey::generate()?;
    // 16 random bytes: half of another fresh key's public half.
    let actor = hex_of(
        &doorstep_device::secret::DeviceKey::generate()?
            .public()
            .as_bytes()[..16],
    );
    Ok(signed_enroll_body(code, &key, &actor))
}

/// An enrollment request's JSON naming `key` and `actor`, signed with `key`.
pub fn signed_enroll_body(
    code: &str,
    key: &doorstep_device::secret::DeviceKey,
    actor: &str,
) -> String {
    let public_key = key.public().to_hex();
    let signature = key.sign(&doorstep_core::keys::enrollment_message(
        code,
        actor,
        &public_key,
    ));
    serde_json::json!({
        "code": code,
        "public_key": public_key,
        "actor": actor,
        "signature": hex_of(&signature),
    })
    .to_string()
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records the resident's signed authorization for `services` on `device`, valid from
/// the device's own today (its clock may be set anywhere) for a year: nothing is
/// submitted on her behalf without one.
pub fn authorize(
    device: &mut Device,
    resident: &doorstep_core::DocId,
    services: &[&str],
) -> Result<doorstep_core::DocId, doorstep_device::DeviceError> {
    let (y, m, d) = device.today();
    let signature = device.store_blob(b"synthetic authorization signature")?;
    let input = doorstep_core::authorization::AuthorizationInput {
        services: services.iter().map(|s| (*s).to_owned()).collect(),
        valid_from: format!("{y:04}-{m:02}-{d:02}"),
        valid_to: format!("{:04}-{m:02}-{:02}", y + 1, d.min(28)),
        signature,
    };
    device.record_authorization(resident, &input)
}

/// Fills in the started senior allowance application `app` as a volunteer would (the
/// bank `account`, a holder, residence here) and attaches `photo` as the bank card's;
/// returns the photo's SHA-256.
pub fn fill_allowance(
    device: &mut Device,
    app: &doorstep_core::DocId,
    account: &str,
    photo: &[u8],
) -> Result<String, doorstep_device::DeviceError> {
    use doorstep_core::value::FieldValue;
    for (key, value) in [
        ("bank_account", FieldValue::Text(account.to_owned())),
        ("account_holder", FieldValue::Text("测试户主".into())),
        ("household_registered_here", FieldValue::Bool(true)),
    ] {
        device.set_application_field(app, key, &value)?;
    }
    device.attach_file(app, "bank_card_photo", "card.png", photo)
}

/// The ids of every resident `device` holds, in one order for every device.
pub fn resident_ids(device: &Device) -> anyhow::Result<Vec<doorstep_core::DocId>> {
    let mut ids: Vec<doorstep_core::DocId> =
        device.list_residents()?.into_iter().map(|r| r.id).collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(ids)
}

/// Makes an enrollment code with the server's command line; returns the code.
pub fn enrollment_code(
    data_dir: &Path,
    committees: &[&str],
    role: &str,
    name: &str,
    expires: &str,
) -> anyhow::Result<String> {
    Ok(enrollment_text_at(data_dir, None, committees, role, name, expires)?.code)
}

/// Makes an enrollment text for `server` (its address, its key's pin and a one-time
/// code) with the server's command line, as an administrator hands it to a device.
pub fn enrollment_text(
    server: &ServerProcess,
    committees: &[&str],
    role: &str,
    name: &str,
    expires: &str,
) -> anyhow::Result<EnrollText> {
    let url = server.base_url();
    enrollment_text_at(
        &server.data_dir,
        Some(&url),
        committees,
        role,
        name,
        expires,
    )
}

/// [`enrollment_text`] for the server whose data is in `data_dir`, at `server_url`.
pub fn enrollment_text_at(
    data_dir: &Path,
    server_url: Option<&str>,
    committees: &[&str],
    role: &str,
    name: &str,
    expires: &str,
) -> anyhow::Result<EnrollText> {
    let qr = tempfile::NamedTempFile::new().context("QR file")?;
    let qr_path = qr.path().to_string_lossy().into_owned();
    let mut args = vec![
        "enroll",
        "--role",
        role,
        "--name",
        name,
        "--expires",
        expires,
    ];
    args.extend(["--qr", &qr_path]);
    if let Some(url) = server_url {
        args.extend(["--server-url", url]);
    }
    for c in committees {
        args.extend(["--committee", c]);
    }
    let out = admin(data_dir, &args)?;
    let text = out
        .lines()
        .find_map(|l| l.strip_prefix("enrollment text: "))
        .context("the enroll command printed no enrollment text")?;
    Ok(EnrollText::parse(text)?)
}

/// A device in its own temporary folder.
#[derive(Debug)]
pub struct TestDevice {
    pub device: Device,
    pub dir: tempfile::TempDir,
}

impl TestDevice {
    /// A new device for `volunteer`, enrolled on `server` in `committee`.
    pub fn enrolled(
        server: &ServerProcess,
        committee: &str,
        role: &str,
        volunteer: &str,
    ) -> anyhow::Result<TestDevice> {
        TestDevice::enrolled_in(server, &[committee], role, volunteer)
    }

    /// A new device enrolled in several committees (a supervisor's).
    pub fn enrolled_in(
        server: &ServerProcess,
        committees: &[&str],
        role: &str,
        volunteer: &str,
    ) -> anyhow::Result<TestDevice> {
        mock_keyring();
        let text = enrollment_text(server, committees, role, volunteer, "1h")?;
        let dir = tempfile::tempdir()?;
        // The name comes with the code: enrolling is all it takes to sign as `volunteer`.
        let mut device = Device::open(dir.path())?;
        device.enroll(&text, "test tablet")?;
        Ok(TestDevice { device, dir })
    }

    /// The device's sync token (from the test keyring), for raw requests: they are
    /// signed with the device's key ([`crate::signed`]).
    pub fn token(&self) -> anyhow::Result<String> {
        let token = doorstep_device::secret::load_token(self.dir.path(), "")?
            .map(|t| t.to_string())
            .context("the device holds no token")?;
        let key = doorstep_device::secret::signing_key(self.dir.path(), "")?;
        crate::signed::register(&token, std::sync::Arc::new(key));
        Ok(token)
    }

    /// [`authorize`] on this device.
    pub fn authorize(
        &mut self,
        resident: &doorstep_core::DocId,
        services: &[&str],
    ) -> anyhow::Result<doorstep_core::DocId> {
        Ok(authorize(&mut self.device, resident, services)?)
    }

    /// Registers `resident`, records her authorization and submits a filled-in senior
    /// allowance application for her (account, holder, residence, a bank card photo).
    /// Returns the resident's and the application's ids.
    pub fn submitted_allowance(
        &mut self,
        resident: &doorstep_core::resident::ResidentInput,
    ) -> anyhow::Result<(doorstep_core::DocId, doorstep_core::DocId)> {
        let person = self.device.register_resident(resident)?.id;
        self.authorize(&person, &["senior_allowance"])?;
        let app = self.device.start_application(&person, "senior_allowance")?;
        fill_allowance(
            &mut self.device,
            &app,
            "6222000011112222",
            crate::SAMPLE_PHOTO,
        )?;
        self.device.submit_application(&app)?;
        Ok((person, app))
    }

    /// Syncs with `server` (HTTPS, its certificate checked as the app checks it) with
    /// fast retries.
    pub fn sync(&mut self, server: &ServerProcess) -> anyhow::Result<SyncReport> {
        let mut transport = self.transport_to(server)?;
        Ok(self.device.sync_with(&mut transport, &FAST_RETRY)?)
    }

    /// A transport to `server` (which may be another server than the enrolled one, on
    /// the same database) with what this device knows its server by.
    pub fn transport_to(&self, server: &ServerProcess) -> anyhow::Result<HttpTransport> {
        self.transport_to_url(&server.base_url())
    }

    /// [`TestDevice::transport_to`] the server at `url`.
    pub fn transport_to_url(&self, url: &str) -> anyhow::Result<HttpTransport> {
        let trust = self
            .device
            .enrollment()?
            .and_then(|e| e.server_trust)
            .context("the device is not enrolled over HTTPS")?;
        Ok(HttpTransport::new(url, Some(trust))?)
    }
}

/// The server's database (SQLite or PostgreSQL), opened beside the running server, for
/// tests that count or damage what it stored.
#[derive(Debug)]
pub struct ServerDb(pub(crate) doorstep_server::store::Store);

impl ServerDb {
    pub fn open(data_dir: &Path) -> anyhow::Result<ServerDb> {
        let database = match crate::process::database_for(data_dir)? {
            Some(url) => doorstep_server::store::Database::Postgres(url),
            None => doorstep_server::store::Database::Sqlite(data_dir.to_owned()),
        };
        Ok(ServerDb(doorstep_server::store::Store::open(&database)?))
    }

    /// The integer in the first column of the first row of `sql`.
    pub fn int(&mut self, sql: &str) -> anyhow::Result<i64> {
        let rows = self.0.query(sql, &[])?;
        let row = rows.first().context("the query returned no row")?;
        Ok(row.int(0)?)
    }

    /// The text in the first column of the first row of `sql`.
    pub fn text(&mut self, sql: &str) -> anyhow::Result<String> {
        let rows = self.0.query(sql, &[])?;
        let row = rows.first().context("the query returned no row")?;
        Ok(row.text(0)?)
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&mut self, sql: &str) -> anyhow::Result<u64> {
        Ok(self.0.execute(sql, &[])?)
    }

    /// Which database this is: `sqlite` or `postgres`.
    /// The certificate the server presents, and its key's binding of it.
    pub fn tls_current(&mut self) -> anyhow::Result<doorstep_server::store::TlsIdentity> {
        self.0
            .tls_current()?
            .context("the server has made no certificate")
    }

    /// Puts a certificate in force by hand (as an attacker holding the database, or an
    /// old key, would): its PEM, its private key, its pin and its serial.
    pub fn put_tls(
        &mut self,
        cert_pem: &str,
        key_pem: &str,
        pin: &str,
        serial: u64,
    ) -> anyhow::Result<()> {
        for (key, value) in [
            ("tls_cert", cert_pem.to_owned()),
            ("tls_key", key_pem.to_owned()),
            ("tls_pin", pin.to_owned()),
            ("tls_serial", serial.to_string()),
        ] {
            // PEM holds no quotes.
            self.0.execute(
                &format!("UPDATE server_meta SET value = '{value}' WHERE key = '{key}'"),
                &[],
            )?;
        }
        Ok(())
    }

    /// The pin of the server's key (what enrollment texts carry).
    pub fn server_key_pin(&mut self) -> anyhow::Result<String> {
        Ok(self.0.server_key_pin()?)
    }

    pub fn backend(&self) -> &'static str {
        self.0.backend()
    }

    /// Tampers with the database as an intruder would: a change to the first record of
    /// `kind`, made with the actor of the first enrolled device of `role`, stored with a
    /// signature that is not its key's, as if the server had taken it. Returns the
    /// record's id. Devices must keep it apart when it reaches them.
    pub fn plant_forged_change(
        &mut self,
        kind: &str,
        role: &str,
        edit: impl FnOnce(&mut automerge::AutoCommit),
    ) -> anyhow::Result<String> {
        use doorstep_server::db::Val;
        let doc = self.0.query(
            "SELECT doc_id, committee_id FROM docs WHERE kind = ?1 ORDER BY doc_id LIMIT 1",
            &[Val::from(kind)],
        )?;
        let doc = doc.first().context("no record of that kind")?;
        let (doc_id, committee) = (doc.text(0)?, doc.text(1)?);
        let actor = self.0.query(
            "SELECT actor FROM devices WHERE role = ?1 ORDER BY enrolled_at LIMIT 1",
            &[Val::from(role)],
        )?;
        let actor = actor.first().context("no device of that role")?.text(0)?;
        let mut record =
            automerge::AutoCommit::new().with_actor(automerge::ActorId::from(hex_bytes(&actor)?));
        for row in self.0.query(
            "SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq",
            &[Val::from(doc_id.as_str())],
        )? {
            record.load_incremental(&row.bytes(0)?)?;
        }
        let heads = record.get_heads();
        edit(&mut record);
        record.commit();
        for change in record.get_changes(&heads) {
            self.0.execute(
                "INSERT INTO changes (doc_id, committee_id, hash, bytes, signature, device_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'intruder')",
                &[
                    Val::from(doc_id.as_str()),
                    Val::from(committee.as_str()),
                    Val::Text(change.hash().to_string()),
                    Val::from(change.raw_bytes()),
                    Val::from("00".repeat(64).as_str()),
                ],
            )?;
        }
        Ok(doc_id)
    }
}

/// Bytes written in hex.
fn hex_bytes(text: &str) -> anyhow::Result<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .context("not hex")
        })
        .collect()
}

/// Opens the database of the server whose data folder is `data_dir`.
pub fn server_db(data_dir: &Path) -> anyhow::Result<ServerDb> {
    ServerDb::open(data_dir)
}

/// The phone every test committee gives its residents (synthetic).
pub const COMMITTEE_PHONE: &str = "07901234567";

/// A committee on `server` with a fresh id.
pub fn committee(server: &ServerProcess, id: &str) -> anyhow::Result<()> {
    admin(
        &server.data_dir,
        &[
            "committee",
            "add",
            "--id",
            id,
            "--name",
            "测试村委会",
            "--phone",
            "0790-1234567",
        ],
    )?;
    Ok(())
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Delivered, answer returned.
    Deliver,
    /// Delivered and processed, but the answer is lost on the way back.
    DropAnswer,
    /// Delivered twice (a retransmission); the second answer is returned.
    Duplicate,
    /// Held back (the sender sees a timeout) and delivered later, after newer requests.
    Delay,
}

/// A request held back by [`Fault::Delay`].
#[derive(Debug)]
struct Held {
    method: String,
    path: String,
    content_type: Option<String>,
    auth: Option<doorstep_device::sync::RequestAuth>,
    body: Vec<u8>,
}

/// A transport that applies a plan of faults to successive requests.
pub struct FaultyTransport {
    inner: Box<dyn Transport>,
    plan: VecDeque<Fault>,
    held: Vec<Held>,
}

impl std::fmt::Debug for FaultyTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyTransport")
            .field("plan", &self.plan)
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl FaultyTransport {
    /// Over HTTPS to `device`'s server.
    pub fn new(device: &Device, plan: impl IntoIterator<Item = Fault>) -> anyhow::Result<Self> {
        Ok(FaultyTransport::over(device.transport()?, plan))
    }

    /// Over any transport (an in-process server's, say).
    pub fn over(inner: impl Transport + 'static, plan: impl IntoIterator<Item = Fault>) -> Self {
        FaultyTransport {
            inner: Box::new(inner),
            plan: plan.into_iter().collect(),
            held: Vec::new(),
        }
    }

    /// Adds faults for the next requests.
    pub fn plan(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.plan.extend(faults);
    }

    /// Delivers every held request now (their answers go nowhere).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        for held in std::mem::take(&mut self.held) {
            let answer = self
                .inner
                .request(
                    &held.method,
                    &held.path,
                    held.content_type.as_deref(),
                    held.auth.as_ref(),
                    held.body,
                )
                .map_err(|e| anyhow::anyhow!(e))?;
            if answer.status >= 500 {
                bail!("a delayed request failed on the server: {}", answer.status);
            }
        }
        Ok(())
    }
}

impl Transport for FaultyTransport {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        match self.plan.pop_front().unwrap_or(Fault::Deliver) {
            Fault::Deliver => self.inner.request(method, path, content_type, auth, body),
            Fault::DropAnswer => {
                self.inner.request(method, path, content_type, auth, body)?;
                Err(NetworkError::Unreachable("the answer was lost".into()))
            }
            Fault::Duplicate => {
                self.inner
                    .request(method, path, content_type, auth, body.clone())?;
                self.inner.request(method, path, content_type, auth, body)
            }
            Fault::Delay => {
                self.held.push(Held {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    content_type: content_type.map(str::to_owned),
                    auth: auth.cloned(),
                    body,
                });
                Err(NetworkError::Unreachable("timed out".into()))
            }
        }
    }

    fn server_trust(&self) -> Option<ServerTrust> {
        self.inner.server_trust()
    }
}

/// Registers a synthetic resident named `name` whose ID number starts `first17`.
pub fn register(
    device: &mut Device,
    name: &str,
    first17: &str,
) -> anyhow::Result<doorstep_core::DocId> {
    Ok(device
        .register_resident(&doorstep_core::resident::ResidentInput {
            name: name.into(),
            id_number: doorstep_core::id_number::IdNumber::complete(first17).expect("17 digits"),
            ..Default::default()
        })?
        .id)
}
