use std::process::Command;

use doorstep_tests::{ServerProcess, workspace_binary};

#[tokio::test]
async fn healthz_answers_ok_with_the_version() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let response = reqwest::get(server.url("/healthz")).await?;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    Ok(())
}

#[tokio::test]
async fn unknown_paths_are_404() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let response = reqwest::get(server.url("/v1/nothing-here")).await?;
    assert_eq!(response.status(), 404);
    Ok(())
}

#[test]
fn an_unparsable_listen_address_is_refused_clearly() -> anyhow::Result<()> {
    let out = Command::new(workspace_binary("doorstep-server")?)
        .args(["serve", "--listen", "not-an-address"])
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--listen"),
        "stderr names the flag: {stderr}"
    );
    Ok(())
}
