//! Enrolling over raw HTTP, for requests no real device would make: one helper for the
//! tests that need a bare token.

use doorstep_core::protocol::EnrollResponse;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{enroll_body, enrollment_code};

/// Trades `code` for an identity, with a fresh key and actor.
pub fn enroll_raw(server: &ServerProcess, code: &str) -> anyhow::Result<EnrollResponse> {
    let response = doorstep_tests::raw_client()
        .post(server.url("/v1/enroll"))
        .header("content-type", "application/json")
        .body(enroll_body(code)?)
        .send()?;
    anyhow::ensure!(response.status() == 200, "enroll: {}", response.status());
    Ok(serde_json::from_slice(&response.bytes()?)?)
}

/// A bare token of a new `role` device in `committees`.
pub fn token_for(
    server: &ServerProcess,
    committees: &[&str],
    role: &str,
) -> anyhow::Result<String> {
    let code = enrollment_code(&server.data_dir, committees, role, "测试人员", "1h")?;
    Ok(enroll_raw(server, &code)?.token)
}
