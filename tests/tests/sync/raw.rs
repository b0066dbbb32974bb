//! Enrolling over raw HTTP, for requests no real device would make: one helper for the
//! tests that need a bare token.

use doorstep_core::protocol::EnrollResponse;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::enrollment_code;

/// Trades `code` for an identity, with a fresh key and actor.
pub fn enroll_raw(server: &ServerProcess, code: &str) -> anyhow::Result<EnrollResponse> {
    // A fresh key and actor, kept for signing the token's requests.
    Ok(doorstep_tests::principal::Principal::enroll(server, code)?.enrolled)
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
