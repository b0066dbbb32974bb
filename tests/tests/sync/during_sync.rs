//! A sync lends the device only between its requests: the window goes on while a request
//! is away, and what it writes meanwhile is neither lost nor taken for sent.

use std::sync::Mutex;

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::{ResidentInput, ResidentPatch};
use doorstep_device::records::DocId;
use doorstep_device::sync::{HttpAnswer, NetworkError, RetryPolicy, drive};
use doorstep_device::{Device, Transport};
use doorstep_tests::in_process::{InProcessServer, RouterTransport};

/// A transport that, while each request is away, does what the window would: takes the
/// device (it must be free) and, once, edits a resident.
struct BusyWindow<'a> {
    inner: RouterTransport,
    device: &'a Mutex<Device>,
    resident: DocId,
    edit_on_sync: Option<String>,
    requests: usize,
    device_was_busy: usize,
}

impl Transport for BusyWindow<'_> {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        self.requests += 1;
        match self.device.try_lock() {
            Ok(mut device) => {
                if path == "/v1/sync"
                    && let Some(address) = self.edit_on_sync.take()
                {
                    device
                        .update_resident(
                            &self.resident,
                            ResidentPatch {
                                address: Some(address),
                                ..ResidentPatch::default()
                            },
                        )
                        .map_err(|e| NetworkError::Unreachable(e.to_string()))?;
                }
            }
            Err(_) => self.device_was_busy += 1,
        }
        self.inner.request(method, path, content_type, auth, body)
    }
}

#[test]
fn an_edit_made_while_a_request_is_away_stays_waiting_and_goes_up_next() -> anyhow::Result<()> {
    let server = InProcessServer::start()?;
    server.committee("c1")?;
    let a = server.device("c1", "测试志愿者甲")?;
    let mut b = server.device("c1", "测试志愿者乙")?;
    let a_dir = a.dir;
    let mut a_device = a.device;
    let resident = a_device.register_resident(&ResidentInput {
        name: "测试老人".into(),
        id_number: IdNumber::complete("11010519400101001").expect("17 digits"),
        address: "测试村一组1号".into(),
        ..ResidentInput::default()
    })?;
    a_device.update_resident(
        &resident.id,
        ResidentPatch {
            address: Some("测试村一组2号".into()),
            ..ResidentPatch::default()
        },
    )?;
    let shared = Mutex::new(a_device);

    let mut window = BusyWindow {
        inner: server.transport(),
        device: &shared,
        resident: resident.id.clone(),
        edit_on_sync: Some("测试村一组3号".into()),
        requests: 0,
        device_was_busy: 0,
    };
    let report = drive(&mut &shared, &mut window, &RetryPolicy::default())?;
    assert_eq!(report.sent_docs, 1, "{report:?}");
    assert!(window.requests >= 1);
    assert_eq!(
        window.device_was_busy, 0,
        "the sync held the device during a request"
    );
    assert!(
        window.edit_on_sync.is_none(),
        "the window's edit was not made"
    );

    // The edit made during the request was not in it: it waits for the next sync.
    let mut a_device = shared.into_inner().expect("not poisoned");
    assert_eq!(a_device.sync_status()?.pending_docs, 1);
    b.device
        .sync_with(&mut server.transport(), &RetryPolicy::default())?;
    assert_eq!(b.device.resident(&resident.id)?.address, "测试村一组2号");

    let report = a_device.sync_with(&mut server.transport(), &RetryPolicy::default())?;
    assert_eq!(report.sent_docs, 1, "{report:?}");
    assert_eq!(a_device.sync_status()?.pending_docs, 0);
    b.device
        .sync_with(&mut server.transport(), &RetryPolicy::default())?;
    assert_eq!(b.device.resident(&resident.id)?.address, "测试村一组3号");
    assert_eq!(a_device.resident(&resident.id)?.address, "测试村一组3号");
    drop(a_dir);
    Ok(())
}
