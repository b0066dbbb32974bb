//! # doorstep-server
//!
//! The sync server. At this stage it answers health checks only (`GET /healthz`); the
//! sync protocol, enrollment and the sync log are added on top of this router.

use axum::{Json, Router, routing::get};
use serde::Serialize;

/// The body of `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// The server's HTTP routes.
pub fn router() -> Router {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}
