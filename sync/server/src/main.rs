//! `doorstep-server`: the sync server's command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use axum_server::tls_rustls::RustlsConfig;
use clap::{Parser, Subcommand};
use doorstep_core::protocol::{Limits, Role};
use doorstep_core::server_identity::EnrollText;
use doorstep_server::store::{Certificate, Database, Store, TlsIdentity};
use doorstep_server::{AppState, now_ms};

#[derive(Debug, Parser)]
#[command(name = "doorstep-server", version, about = "Doorstep sync server")]
struct Cli {
    /// Folder of the embedded SQLite database (created if missing).
    #[arg(
        long,
        global = true,
        env = "DOORSTEP_SERVER_DATA",
        default_value = "doorstep-server-data"
    )]
    data_dir: PathBuf,
    /// A PostgreSQL URL (postgres://user:password@host/db) to use instead of the
    /// embedded SQLite database; several servers may share it.
    #[arg(long, global = true, env = "DOORSTEP_DATABASE")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTPS until interrupted (Ctrl-C or SIGTERM).
    Serve {
        /// Address and port to listen on; port 0 picks a free port.
        #[arg(long, env = "DOORSTEP_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// Largest request body in bytes.
        #[arg(long, env = "DOORSTEP_MAX_REQUEST_BYTES")]
        max_request_bytes: Option<usize>,
        /// Most documents in one sync request.
        #[arg(long, env = "DOORSTEP_MAX_DOCUMENTS")]
        max_documents: Option<usize>,
        /// Largest document in bytes.
        #[arg(long, env = "DOORSTEP_MAX_DOCUMENT_BYTES")]
        max_document_bytes: Option<usize>,
        /// Change bytes per answer before the server says "more".
        #[arg(long, env = "DOORSTEP_MAX_RESPONSE_BYTES")]
        max_response_bytes: Option<usize>,
        /// Hours an unfinished attachment upload is kept (default a week).
        #[arg(long, env = "DOORSTEP_PARTIAL_BLOB_HOURS")]
        partial_blob_hours: Option<u32>,
        /// Where to serve `/metrics` (Prometheus, plain HTTP) for the operator's
        /// monitoring; not served at all without it, and never on --listen.
        #[arg(long, env = "DOORSTEP_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// Serve plain HTTP instead of HTTPS: only on a loopback address (this machine),
        /// for tests and tools; devices elsewhere cannot reach it.
        #[arg(long)]
        plain_http: bool,
        /// The operator's own certificate (PEM, the chain) instead of the one the server
        /// makes on its first start; with --tls-key.
        #[arg(long, env = "DOORSTEP_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, env = "DOORSTEP_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// The server's TLS certificate, which enrolled devices accept because the server's
    /// key vouches for it.
    Tls {
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// Committees (the scopes of documents).
    Committee {
        #[command(subcommand)]
        command: CommitteeCommand,
    },
    /// Make a one-time enrollment code for a person's device.
    Enroll {
        /// The committee (repeat for a supervisor of several).
        #[arg(long = "committee", required = true)]
        committees: Vec<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The person the device is for.
        #[arg(long)]
        name: String,
        /// How long the code stays valid (e.g. 24h, 30m, 7d).
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        expires: std::time::Duration,
        /// The server address the device should use, written into the QR code.
        #[arg(long, env = "DOORSTEP_PUBLIC_URL")]
        server_url: Option<String>,
        /// Where to write the QR code as PNG (default: enroll-<code>.png in the data folder).
        #[arg(long)]
        qr: Option<PathBuf>,
    },
    /// Enrolled devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The sync log.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// After restoring the database from a backup: a new epoch, so that every device
    /// sends all it holds again (what the backup lacks comes back; nothing is stored
    /// twice).
    Restored,
}

#[derive(Debug, Subcommand)]
enum CommitteeCommand {
    /// Add a committee (or rename one).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The phone residents may call, printed on their receipts.
        #[arg(long, default_value = "")]
        phone: String,
    },
    /// List committees.
    List,
}

#[derive(Debug, Subcommand)]
enum TlsCommand {
    /// Show the certificate in force and the server key's pin (what enrollment texts
    /// carry).
    Show,
    /// Replace the certificate (by a new one, or the operator's own) and bind it with
    /// the server key: enrolled devices move to it at their next sync, with no new
    /// enrollment. Restart the server(s) to present it.
    Rotate {
        /// The operator's certificate (PEM); with --key. Without both, a new one is made.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Refuse a device's token from now on (a lost or stolen device).
    Revoke { device_id: String },
    /// List devices.
    List {
        #[arg(long)]
        committee: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Check every committee's log (or one's): its hash chain, its filter columns, its
    /// Merkle tree, and every checkpoint of it a device said it holds.
    Verify {
        #[arg(long)]
        committee: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role; use volunteer or supervisor"))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let data_dir = cli.data_dir;
    let database = match cli.database.filter(|d| !d.trim().is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Database::Postgres(url)
        }
        Some(other) => bail!(
            "--database {:?} is not a PostgreSQL URL (postgres://user:password@host/db); \
             leave it out to use the embedded SQLite database",
            other.split('@').next_back().unwrap_or_default()
        ),
        None => Database::Sqlite(data_dir.clone()),
    };
    match cli.command {
        Command::Serve {
            listen,
            max_request_bytes,
            max_documents,
            max_document_bytes,
            max_response_bytes,
            partial_blob_hours,
            plain_http,
            tls_cert,
            tls_key,
            metrics_listen,
        } => {
            let defaults = Limits::default();
            let limits = Limits {
                request_bytes: max_request_bytes.unwrap_or(defaults.request_bytes),
                documents_per_request: max_documents.unwrap_or(defaults.documents_per_request),
                document_bytes: max_document_bytes.unwrap_or(defaults.document_bytes),
                response_bytes: max_response_bytes.unwrap_or(defaults.response_bytes),
                blob_bytes: defaults.blob_bytes,
                partial_blob_hours: partial_blob_hours.unwrap_or(defaults.partial_blob_hours),
            };
            // The store is opened before the async runtime starts: the PostgreSQL client
            // runs its own.
            let mut store = open(&database)?;
            tracing::info!(backend = store.backend(), "database open");
            let tls = if plain_http {
                if !listen.ip().is_loopback() {
                    bail!(
                        "--plain-http serves this machine only: listen on 127.0.0.1 or ::1, \
                         or leave --plain-http out to serve HTTPS"
                    );
                }
                None
            } else {
                let given = match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => Some(read_certificate(&cert, &key)?),
                    _ => None,
                };
                Some(tls_identity(&mut store, given)?)
            };
            tokio::runtime::Runtime::new()
                .context("starting the async runtime")?
                .block_on(serve(store, listen, limits, tls, metrics_listen))
        }
        Command::Tls { command } => {
            let mut store = open(&database)?;
            let identity = match command {
                TlsCommand::Show => tls_identity(&mut store, None)?,
                TlsCommand::Rotate { cert, key } => {
                    let next = match (cert, key) {
                        (Some(cert), Some(key)) => read_certificate(&cert, &key)?,
                        _ => doorstep_server::tls::make_certificate()?,
                    };
                    let identity = store.tls_rotate(&next)?;
                    say(
                        "certificate replaced: restart the server(s) to present it; enrolled \
                         devices move to it at their next sync",
                    );
                    identity
                }
            };
            say(&format!(
                "certificate pin (SHA-256 of its public key): {}",
                identity.binding.tls_pin
            ));
            say(&format!("certificate serial: {}", identity.binding.serial));
            say(&format!(
                "server key pin (in enrollment texts): {}",
                store.server_key_pin()?
            ));
            Ok(())
        }
        Command::Committee { command } => {
            let mut store = open(&database)?;
            match command {
                CommitteeCommand::Add { id, name, phone } => {
                    store.committee_add(&id, &name, &phone, now_ms())?;
                    say(&format!("committee {id} saved"));
                }
                CommitteeCommand::List => {
                    for c in store.committees()? {
                        say(&format!("{}\t{}\t{}", c.id, c.name, c.phone));
                    }
                }
            }
            Ok(())
        }
        Command::Enroll {
            committees,
            role,
            name,
            expires,
            server_url,
            qr,
        } => {
            let mut store = open(&database)?;
            let now = now_ms();
            let expires_ms = i64::try_from(expires.as_millis()).unwrap_or(i64::MAX);
            let code = store.enrollment_create(
                &committees,
                role,
                &name,
                now,
                now.saturating_add(expires_ms),
            )?;
            let payload = EnrollText {
                server: server_url,
                server_key: Some(store.server_key_pin()?),
                code: code.clone(),
            }
            .to_text();
            let qr_path = qr.unwrap_or_else(|| data_dir.join(format!("enroll-{code}.png")));
            write_qr(&payload, &qr_path)?;
            say(&qr_terminal(&payload)?);
            say(&format!("code: {code}"));
            say(&format!("enrollment text: {payload}"));
            say(&format!(
                "valid for {}; QR code written to {}",
                humantime::format_duration(expires),
                qr_path.display()
            ));
            Ok(())
        }
        Command::Device { command } => {
            let mut store = open(&database)?;
            match command {
                DeviceCommand::Revoke { device_id } => {
                    store.device_revoke(&device_id, now_ms())?;
                    say(&format!("device {device_id} revoked"));
                }
                DeviceCommand::List { committee } => {
                    for d in store.devices(committee.as_deref())? {
                        say(&format!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            d.device_id,
                            d.role.as_str(),
                            d.committees.join(","),
                            d.last_sync_at.map_or("never".into(), |t| t.to_string()),
                            if d.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active"
                            },
                            d.key_fingerprint
                        ));
                    }
                }
            }
            Ok(())
        }
        Command::Restored => {
            let mut store = open(&database)?;
            let epoch = store.renew_epoch()?;
            say(&format!(
                "new epoch {epoch}: every device sends what it holds again at its next sync"
            ));
            Ok(())
        }
        Command::Log {
            command: LogCommand::Verify { committee },
        } => {
            let mut store = open(&database)?;
            match store.log_verify(committee.as_deref())? {
                Ok(n) => {
                    say(&format!(
                        "log verified: {n} entries, every chain intact, every Merkle tree \
                         made of its entries, every checkpoint a device holds signed and \
                         consistent with its log"
                    ));
                    Ok(())
                }
                Err(broken) => bail!(
                    "log broken: committee {} entry {}: {}",
                    broken.committee,
                    broken.seq,
                    broken.reason
                ),
            }
        }
    }
}

/// Prints a line for the administrator on standard output.
#[expect(clippy::print_stdout, reason = "the command line's answer")]
fn say(line: &str) {
    println!("{line}");
}

fn open(database: &Database) -> anyhow::Result<Store> {
    if let Database::Sqlite(dir) = database {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data folder {}", dir.display()))?;
    }
    Ok(Store::open(database)?)
}

fn write_qr(payload: &str, path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let code = qrcode::QrCode::new(payload.as_bytes()).context("making the QR code")?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(320, 320)
        .build();
    image
        .save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("writing {}", path.display()))
}

fn qr_terminal(payload: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).context("making the QR code")?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .build())
}

/// The certificate to present: the operator's `given` one (kept, if the database has
/// none yet), or the one in force (made on the first start).
fn tls_identity(store: &mut Store, given: Option<Certificate>) -> anyhow::Result<TlsIdentity> {
    let current = store.tls_identity(|| match &given {
        Some(given) => Ok(given.clone()),
        None => doorstep_server::tls::make_certificate()
            .map_err(|e| doorstep_server::error::Failure::storage(e.to_string())),
    })?;
    if let Some(given) = given
        && given.pin != current.binding.tls_pin
    {
        bail!(
            "--tls-cert is not the certificate in force, and enrolled devices would refuse \
             it: run `doorstep-server tls rotate --cert {{file}} --key {{file}}` once so that \
             the server key vouches for it"
        );
    }
    Ok(current)
}

fn read_certificate(cert: &Path, key: &Path) -> anyhow::Result<Certificate> {
    let cert_pem = std::fs::read_to_string(cert)
        .with_context(|| format!("reading the certificate {}", cert.display()))?;
    let key_pem = std::fs::read_to_string(key)
        .with_context(|| format!("reading the TLS key {}", key.display()))?;
    doorstep_server::tls::certificate(cert_pem, key_pem)
        .with_context(|| format!("using {} and {}", cert.display(), key.display()))
}

async fn serve(
    store: Store,
    listen: SocketAddr,
    limits: Limits,
    tls: Option<TlsIdentity>,
    metrics_listen: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let listener =
        std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    listener
        .set_nonblocking(true)
        .context("setting up the listening socket")?;
    let local = listener.local_addr().context("reading the bound address")?;
    let mut state = AppState::new(store, limits);
    let config = match &tls {
        Some(identity) => {
            state = state.with_tls(identity.binding.clone());
            Some(doorstep_server::tls::config_for(identity)?)
        }
        None => None,
    };
    let metrics = match metrics_listen {
        Some(addr) => {
            let listener = std::net::TcpListener::bind(addr)
                .with_context(|| format!("listening for metrics on {addr}"))?;
            listener
                .set_nonblocking(true)
                .context("setting up the metrics socket")?;
            tracing::info!(address = %addr, "metrics served");
            Some((listener, doorstep_server::metrics_router(state.clone())))
        }
        None => None,
    };
    let app = doorstep_server::router(state);
    let handle = axum_server::Handle::new();
    if let Some((listener, router)) = metrics {
        let server = axum_server::from_tcp(listener)
            .context("serving metrics")?
            .handle(handle.clone());
        tokio::spawn(async move {
            if let Err(e) = server.serve(router.into_make_service()).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    // Tests and scripts read this line to learn the port when they asked for port 0.
    match config {
        Some(config) => {
            tracing::info!(address = %local, scheme = "https", "doorstep-server listening");
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))
                .context("serving HTTPS")?
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .context("serving HTTPS")
        }
        None => {
            tracing::info!(address = %local, scheme = "http", "doorstep-server listening");
            axum_server::from_tcp(listener)
                .context("serving HTTP")?
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .context("serving HTTP")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
