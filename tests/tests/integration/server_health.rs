use std::process::Command;

use doorstep_tests::{ServerProcess, workspace_binary};

#[tokio::test]
async fn healthz_answers_ok_with_the_version() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let response = doorstep_tests::raw_async_client()
        .get(server.url("/healthz"))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    Ok(())
}

#[tokio::test]
async fn unknown_paths_are_404() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let response = doorstep_tests::raw_async_client()
        .get(server.url("/v1/nothing-here"))
        .send()
        .await?;
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

#[tokio::test]
async fn the_api_document_is_the_one_in_the_repository_and_every_path_exists() -> anyhow::Result<()>
{
    let server = ServerProcess::start()?;
    let served = doorstep_tests::raw_async_client()
        .get(server.url("/v1/openapi.json"))
        .send()
        .await?;
    assert_eq!(served.status(), 200);
    let served: serde_json::Value = served.json().await?;
    let kept: serde_json::Value =
        serde_json::from_str(include_str!("../../../sync/server/openapi.json"))?;
    assert!(
        served == kept,
        "the served document differs from sync/server/openapi.json"
    );
    // Every documented path and method is routed (answered, if only with a refusal).
    let client = doorstep_tests::raw_async_client();
    let paths = kept["paths"].as_object().expect("paths");
    for (path, item) in paths {
        let concrete = path
            .replace("{sha256}", &"ab".repeat(32))
            .replace("{device_id}", "no-such-device");
        for method in ["get", "post", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            let request = match method {
                "get" => client.get(server.url(&concrete)),
                "post" => client.post(server.url(&concrete)),
                _ => client.put(server.url(&concrete)),
            };
            let response = request.send().await?;
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            assert_ne!(
                body["code"], "no_such_endpoint",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(body["code"], "method_not_allowed", "{method} {path}");
        }
    }
    // The error codes documented are exactly those the server uses.
    let mut documented: Vec<&str> = kept["components"]["schemas"]["ApiError"]["properties"]["code"]
        ["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    documented.sort_unstable();
    let mut known = doorstep_core::protocol::ERROR_CODES.to_vec();
    known.sort_unstable();
    assert_eq!(documented, known);
    Ok(())
}
