//! The API document (`sync/server/openapi.json`) is the contract, and the server keeps
//! to it. A walk of the document checks that every route it marks as protected refuses
//! a request without the device's token. A property-based run then sends generated
//! requests to every documented operation: path and query parameters in and out of
//! their bounds and of the wrong type, bodies valid, damaged, compressed or random (the
//! CBOR sync route included), with the wrong media type, with no token, a token alone,
//! or a device's signed request. No answer may be a server error, or a status the
//! document does not list for that operation, or a refusal without a documented code.

use std::collections::BTreeSet;

use doorstep_core::protocol::{self, COUNTER_HEADER, SIGNATURE_HEADER};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::committee;
use doorstep_tests::principal::Principal;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Generated requests in `make test`; `DOORSTEP_API_CASES` asks for more.
const CASES: u32 = 300;

/// One documented operation.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    secured: bool,
    statuses: BTreeSet<u16>,
    /// Query parameters: name and JSON schema type.
    query: Vec<(String, String, Option<i64>, Option<i64>)>,
    /// The media type of its body, if it takes one.
    body: Option<String>,
}

fn operations(doc: &serde_json::Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !matches!(method.as_str(), "get" | "post" | "put" | "delete") {
                continue;
            }
            let statuses = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|s| s.parse().expect("a status"))
                .collect();
            let query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap_or_default().to_owned(),
                                p["schema"]["type"].as_str().unwrap_or("string").to_owned(),
                                p["schema"]["minimum"].as_i64(),
                                p["schema"]["maximum"].as_i64(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.keys().next().cloned());
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                secured: op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
                statuses,
                query,
                body,
            });
        }
    }
    out
}

fn document() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../sync/server/openapi.json")).expect("the document")
}

/// Who sends a generated request.
#[derive(Debug, Clone, Copy)]
enum Auth {
    Nobody,
    /// A volunteer's token without its signature.
    TokenAlone,
    /// A token no device holds.
    Forged,
    Volunteer,
    Supervisor,
}

/// A generated request, before the server's fixtures fill it in.
#[derive(Debug, Clone)]
struct Generated {
    op: usize,
    path_param: String,
    query: Vec<(usize, String)>,
    extra_query: bool,
    body: BodyKind,
    media: Media,
    auth: Auth,
}

#[derive(Debug, Clone)]
enum BodyKind {
    /// What the operation is meant to take (a valid sync, enrollment or piece).
    Valid,
    /// The valid body cut short.
    Truncated(usize),
    /// The valid body, deflated.
    Deflated,
    Random(Vec<u8>),
    RandomJson(serde_json::Value),
    Empty,
}

#[derive(Debug, Clone, Copy)]
enum Media {
    Documented,
    Wrong,
    Missing,
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z0-9 测试-]{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("code".to_owned()),
                    Just("public_key".to_owned()),
                    Just("actor".to_owned()),
                    Just("signature".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn generated(ops: usize) -> impl Strategy<Value = Generated> {
    let param_value = prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("501".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("true".to_owned()),
        Just("maybe".to_owned()),
        (0i64..2_000_000_000_000).prop_map(|n| n.to_string()),
        "[a-zA-Z0-9 %&=测试-]{0,24}",
    ];
    let path_param = prop_oneof![
        Just("ab".repeat(32)),
        "[0-9a-f]{64}",
        // A lone "." or ".." is a dot segment the client takes out of the URL: the
        // server would be sent another path, not this parameter.
        "[A-Za-z0-9._~-]{1,80}".prop_filter("not a dot segment", |s| s != "." && s != ".."),
        Just("no-such-device".to_owned()),
    ];
    let body = prop_oneof![
        3 => Just(BodyKind::Valid),
        1 => (0usize..400).prop_map(BodyKind::Truncated),
        1 => Just(BodyKind::Deflated),
        1 => proptest::collection::vec(any::<u8>(), 0..2048).prop_map(BodyKind::Random),
        1 => json_value().prop_map(BodyKind::RandomJson),
        1 => Just(BodyKind::Empty),
    ];
    let media = prop_oneof![
        6 => Just(Media::Documented),
        1 => Just(Media::Wrong),
        1 => Just(Media::Missing),
    ];
    let auth = prop_oneof![
        1 => Just(Auth::Nobody),
        1 => Just(Auth::TokenAlone),
        1 => Just(Auth::Forged),
        3 => Just(Auth::Volunteer),
        3 => Just(Auth::Supervisor),
    ];
    (
        0..ops,
        path_param,
        proptest::collection::vec((0usize..8, param_value), 0..4),
        any::<bool>(),
        body,
        media,
        auth,
    )
        .prop_map(
            |(op, path_param, query, extra_query, body, media, auth)| Generated {
                op,
                path_param,
                query,
                extra_query,
                body,
                media,
                auth,
            },
        )
}

/// What the generated requests run against: a server with a committee, a volunteer and
/// a supervisor of it.
struct Fixture {
    server: ServerProcess,
    volunteer: Principal,
    supervisor: Principal,
    client: reqwest::blocking::Client,
}

impl Fixture {
    fn valid_body(&self, op: &Operation) -> Vec<u8> {
        match op.body.as_deref() {
            Some(protocol::CBOR) => self.volunteer.new_resident_sync(),
            Some("application/json") => serde_json::json!({
                "code": "NO-SUCH-CODE",
                "public_key": "ab".repeat(32),
                "actor": "cd".repeat(16),
                "signature": "ef".repeat(64),
            })
            .to_string()
            .into_bytes(),
            Some(_) => doorstep_tests::SAMPLE_PHOTO[..64].to_vec(),
            None => Vec::new(),
        }
    }

    /// Sends `g`; the operation, the status and the body of the answer.
    fn send(&self, ops: &[Operation], g: &Generated) -> anyhow::Result<(u16, Vec<u8>)> {
        let op = &ops[g.op];
        let path = op
            .path
            .replace("{sha256}", &g.path_param)
            .replace("{device_id}", &g.path_param);
        let mut url = reqwest::Url::parse(&self.server.url(&path))?;
        if !op.query.is_empty() || g.extra_query {
            let mut pairs = url.query_pairs_mut();
            for (i, value) in &g.query {
                if let Some((name, ..)) = op.query.get(i % op.query.len().max(1)) {
                    pairs.append_pair(name, value);
                }
            }
            if g.extra_query {
                pairs.append_pair("unknown", "1");
            }
        }
        let path_and_query = match url.query() {
            Some(q) if !q.is_empty() => format!("{}?{q}", url.path()),
            _ => url.path().to_owned(),
        };
        let valid = self.valid_body(op);
        let (body, deflated) = match &g.body {
            BodyKind::Valid => (valid.clone(), false),
            BodyKind::Truncated(n) => (valid[..(*n).min(valid.len())].to_vec(), false),
            BodyKind::Deflated => (protocol::deflate(&valid), true),
            BodyKind::Random(bytes) => (bytes.clone(), false),
            BodyKind::RandomJson(v) => (v.to_string().into_bytes(), false),
            BodyKind::Empty => (Vec::new(), false),
        };
        let method = reqwest::Method::from_bytes(op.method.as_bytes())?;
        let mut request = self.client.request(method, url);
        match (g.media, op.body.as_deref()) {
            (Media::Documented, Some(media)) => request = request.header("content-type", media),
            (Media::Wrong, _) => request = request.header("content-type", "text/plain"),
            _ => {}
        }
        if deflated {
            request = request.header("content-encoding", protocol::DEFLATE);
        }
        let signed_body = if deflated { valid } else { body.clone() };
        let holder = match g.auth {
            Auth::Nobody => None,
            Auth::Forged => {
                request = request.bearer_auth("Zm9yZ2VkLXRva2Vu");
                None
            }
            Auth::TokenAlone => {
                request = request.bearer_auth(self.volunteer.token());
                None
            }
            Auth::Volunteer => Some(&self.volunteer),
            Auth::Supervisor => Some(&self.supervisor),
        };
        if let Some(p) = holder {
            let auth =
                doorstep_tests::signed::auth(p.token(), &op.method, &path_and_query, &signed_body)
                    .expect("a registered principal");
            request = request
                .bearer_auth(p.token())
                .header(COUNTER_HEADER, auth.counter.to_string())
                .header(SIGNATURE_HEADER, auth.signature);
        }
        let response = request.body(body).send()?;
        let status = response.status().as_u16();
        Ok((status, response.bytes()?.to_vec()))
    }
}

fn fixture() -> anyhow::Result<Fixture> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let volunteer = Principal::new(&server, &["c1"], "volunteer")?;
    let supervisor = Principal::new(&server, &["c1"], "supervisor")?;
    Ok(Fixture {
        server,
        volunteer,
        supervisor,
        client: doorstep_tests::raw_client(),
    })
}

/// Whether an answer keeps to the document: a documented status, never a server error,
/// and a refusal with a documented code.
fn check(op: &Operation, status: u16, body: &[u8]) -> Result<(), String> {
    if status >= 500 {
        return Err(format!("{} {}: server error {status}", op.method, op.path));
    }
    if !op.statuses.contains(&status) {
        return Err(format!(
            "{} {}: {status} is not among the documented {:?} ({})",
            op.method,
            op.path,
            op.statuses,
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    if status >= 400 {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("{} {}: {status} without a coded body", op.method, op.path))?;
        if !protocol::ERROR_CODES.contains(&code.as_str()) {
            return Err(format!(
                "{} {}: undocumented code {code}",
                op.method, op.path
            ));
        }
    }
    Ok(())
}

#[test]
fn every_protected_route_refuses_a_request_without_a_token() -> anyhow::Result<()> {
    let fixture = fixture()?;
    let ops = operations(&document());
    let protected: Vec<&Operation> = ops.iter().filter(|o| o.secured).collect();
    assert!(
        protected.len() >= 8,
        "{} protected operations",
        protected.len()
    );
    for op in &ops {
        // Every operation says how it authenticates: with the token (and signature), or
        // explicitly with nothing.
        let declared = document()["paths"][&op.path][op.method.to_lowercase()]
            .get("security")
            .is_some();
        assert!(
            declared,
            "{} {} does not state its authentication",
            op.method, op.path
        );
    }
    for op in protected {
        let g = Generated {
            op: ops
                .iter()
                .position(|o| o.method == op.method && o.path == op.path)
                .expect("listed"),
            path_param: "ab".repeat(32),
            query: Vec::new(),
            extra_query: false,
            body: BodyKind::Valid,
            media: Media::Documented,
            auth: Auth::Nobody,
        };
        let (status, body) = fixture.send(&ops, &g)?;
        let code = serde_json::from_slice::<serde_json::Value>(&body)?["code"].clone();
        assert_eq!(
            (status, code.as_str()),
            (401, Some("token_missing")),
            "{} {}",
            op.method,
            op.path
        );
        check(op, status, &body).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

#[test]
fn generated_requests_get_only_documented_answers_and_no_server_error() -> anyhow::Result<()> {
    let fixture = fixture()?;
    let ops = operations(&document());
    let cases = std::env::var("DOORSTEP_API_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let seen = std::sync::Mutex::new(BTreeSet::new());
    runner
        .run(&generated(ops.len()), |g| {
            let (status, body) = fixture
                .send(&ops, &g)
                .map_err(|e| TestCaseError::fail(format!("{g:?}: no answer: {e}")))?;
            check(&ops[g.op], status, &body)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{g:?}")))?;
            seen.lock()
                .map_err(|_| TestCaseError::fail("poisoned"))?
                .insert((g.op, status));
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The run reached every operation, and more than its refusals.
    let seen = seen.into_inner().map_err(|_| anyhow::anyhow!("poisoned"))?;
    for (i, op) in ops.iter().enumerate() {
        assert!(
            seen.iter().any(|(o, _)| *o == i),
            "{} {} was never tried",
            op.method,
            op.path
        );
    }
    assert!(
        seen.iter().any(|(_, s)| *s == 200),
        "no request was ever taken"
    );
    let health = fixture.client.get(fixture.server.url("/healthz")).send()?;
    assert_eq!(health.status(), 200, "the server still serves");
    eprintln!(
        "{cases} generated requests, {} (operation, status) pairs",
        seen.len()
    );
    Ok(())
}

#[test]
fn documented_parameter_bounds_are_the_ones_the_server_enforces() -> anyhow::Result<()> {
    let fixture = fixture()?;
    let ops = operations(&document());
    let mut checked = 0;
    for (i, op) in ops.iter().enumerate() {
        for (q, (name, _, min, max)) in op.query.iter().enumerate() {
            for (value, inside) in [
                (min.map(|m| m - 1), false),
                (*min, true),
                (*max, true),
                (max.map(|m| m + 1), false),
            ] {
                let Some(value) = value else { continue };
                let g = Generated {
                    op: i,
                    path_param: "ab".repeat(32),
                    // The other bounded parameters at their least (a piece's size is
                    // required), this one at the value tried.
                    query: op
                        .query
                        .iter()
                        .enumerate()
                        .filter(|(o, p)| *o != q && p.2.is_some())
                        .map(|(o, p)| (o, p.2.unwrap_or(0).to_string()))
                        .chain([(q, value.to_string())])
                        .collect(),
                    extra_query: false,
                    body: BodyKind::Valid,
                    media: Media::Documented,
                    auth: Auth::Supervisor,
                };
                let (status, body) = fixture.send(&ops, &g)?;
                check(op, status, &body).map_err(anyhow::Error::msg)?;
                let code = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                // Refused for the parameter: a query that is not valid, or (a piece's
                // size below 1) an empty attachment.
                let refused_for_it =
                    status == 400 && matches!(code.as_str(), "invalid_query" | "blob_empty");
                assert_eq!(
                    refused_for_it, !inside,
                    "{} {}?{name}={value}: {status} {code}",
                    op.method, op.path
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked} bounds checked");
    Ok(())
}
