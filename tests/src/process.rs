//! Child processes of tests: built binaries of the workspace, free ports, the server.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The cargo target profile folder (`target/debug`) the running test was built into.
pub fn target_dir() -> anyhow::Result<PathBuf> {
    // A test executable lives in <target>/<profile>/deps/.
    let exe = std::env::current_exe().context("locating the test executable")?;
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .context("the test executable is not inside a cargo target folder")
}

/// Path of a binary built by this workspace, or a clear error saying how to build it.
pub fn workspace_binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = target_dir()?.join(name);
    if !path.is_file() {
        bail!(
            "{} is not built; run `cargo build --workspace --bins` (make test does)",
            path.display()
        );
    }
    Ok(path)
}

/// A free TCP port on 127.0.0.1 (asked of the OS, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(free_ports::<1>()?[0])
}

/// `N` distinct free ports on 127.0.0.1, all held at once while asking so none repeats.
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let mut listeners = Vec::with_capacity(N);
    let mut ports = [0; N];
    for port in &mut ports {
        let listener = TcpListener::bind("127.0.0.1:0").context("asking the OS for a free port")?;
        *port = listener.local_addr()?.port();
        listeners.push(listener);
    }
    Ok(ports)
}

/// Waits until something accepts TCP connections on `addr`.
pub(crate) fn wait_for_port(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on {addr} within {timeout:?}")
}

/// A child process killed (and reaped) when dropped, with every process of its process
/// group when it was started as a group leader (see [`spawn_group`]).
#[derive(Debug)]
pub struct KillOnDrop {
    child: Child,
    group: bool,
}

impl KillOnDrop {
    pub fn new(child: Child) -> KillOnDrop {
        KillOnDrop {
            child,
            group: false,
        }
    }
}

/// Starts `command` as the leader of a new process group, so that dropping the handle
/// also ends what it started (tauri-driver starts WebKitWebDriver, which starts the app).
pub fn spawn_group(command: &mut Command) -> std::io::Result<KillOnDrop> {
    use std::os::unix::process::CommandExt;
    let child = command.process_group(0).spawn()?;
    Ok(KillOnDrop { child, group: true })
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `doorstep-server serve` child on a free loopback port, with its data in a
/// temporary folder (or a given one, to restart a server on the same data).
#[derive(Debug)]
pub struct ServerProcess {
    pub addr: SocketAddr,
    /// `https`, or `http` for a server started with `--plain-http`.
    scheme: &'static str,
    /// Where it serves `/metrics` (plain HTTP, on a port of its own).
    pub metrics_addr: SocketAddr,
    pub data_dir: PathBuf,
    temp: Option<tempfile::TempDir>,
    child: KillOnDrop,
}

impl ServerProcess {
    /// A server on fresh, empty data.
    pub fn start() -> anyhow::Result<ServerProcess> {
        let temp = tempfile::tempdir().context("making the server's data folder")?;
        let dir = temp.path().to_owned();
        let mut server = ServerProcess::start_on(&dir, &[])?;
        server.temp = Some(temp);
        Ok(server)
    }

    /// A server on the data in `data_dir`, with extra `serve` arguments.
    pub fn start_on(data_dir: &std::path::Path, extra: &[&str]) -> anyhow::Result<ServerProcess> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        ServerProcess::start_at(data_dir, addr, extra)
    }

    /// A server on the PostgreSQL database at `url` (a test's own cluster), with its
    /// files in `data_dir`; the administrative helpers find the database through it.
    pub fn start_with_database(
        data_dir: &std::path::Path,
        url: &str,
    ) -> anyhow::Result<ServerProcess> {
        std::fs::write(data_dir.join(DATABASE_URL_FILE), url)
            .context("noting the server's database")?;
        ServerProcess::start_on(data_dir, &[])
    }

    /// A server on the data in `data_dir` listening on `addr` (to restart one in place).
    pub fn start_at(
        data_dir: &std::path::Path,
        addr: SocketAddr,
        extra: &[&str],
    ) -> anyhow::Result<ServerProcess> {
        let metrics_addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut command = Command::new(workspace_binary("doorstep-server")?);
        command
            .args(["serve", "--listen", &addr.to_string()])
            .args(["--metrics-listen", &metrics_addr.to_string()])
            .args(extra)
            .env("DOORSTEP_SERVER_DATA", data_dir)
            .env("RUST_LOG", "warn");
        if let Some(url) = database_for(data_dir)? {
            command.env("DOORSTEP_DATABASE", url);
        }
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .context("starting doorstep-server")?;
        let child = KillOnDrop::new(child);
        wait_for_port(addr, Duration::from_secs(20))?;
        Ok(ServerProcess {
            addr,
            metrics_addr,
            scheme: if extra.contains(&"--plain-http") {
                "http"
            } else {
                "https"
            },
            data_dir: data_dir.to_owned(),
            temp: None,
            child,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// The server's metrics (Prometheus text).
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr)
    }

    /// The server's base URL, for devices (HTTPS, as servers serve by default).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.child.id()
    }

    /// Whether the server process has ended (and is reaped).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.child.try_wait(), Ok(None))
    }

    /// Kills the server with SIGKILL (no chance to finish anything) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.child.kill();
        let _ = self.child.child.wait();
    }

    /// Runs an administrative command (`committee add …`, `enroll …`) on this server's
    /// data; returns its standard output, or its standard error as the error.
    pub fn admin(&self, args: &[&str]) -> anyhow::Result<String> {
        admin(&self.data_dir, args)
    }
}

/// A client for raw requests to test servers, which accepts their self-signed
/// certificates: raw requests test the API; the devices' pinning of the server's
/// certificate has tests of its own (`tests/tests/sync/tls.rs`).
pub fn raw_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap_or_default()
}

/// [`raw_client`], asynchronous.
pub fn raw_async_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap_or_default()
}

/// Runs `doorstep-server <args>` on the data in `data_dir`.
pub fn admin(data_dir: &std::path::Path, args: &[&str]) -> anyhow::Result<String> {
    let mut command = Command::new(workspace_binary("doorstep-server")?);
    command
        .args(args)
        .env("DOORSTEP_SERVER_DATA", data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE");
    if let Some(url) = database_for(data_dir)? {
        command.env("DOORSTEP_DATABASE", url);
    }
    let out = command.output().context("running doorstep-server")?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A file in a server's data folder naming the database it runs on, when a test gave
/// it one of its own ([`ServerProcess::start_with_database`]).
const DATABASE_URL_FILE: &str = "test-database-url";

/// Which database test servers use: `DOORSTEP_TEST_BACKEND=postgres` runs them on
/// PostgreSQL (at the server named by `DOORSTEP_TEST_POSTGRES`, which `make test` starts),
/// anything else on SQLite in their data folder.
pub fn postgres_backend() -> bool {
    std::env::var("DOORSTEP_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL database of the server whose data folder is `data_dir`, created on
/// first use (named after the folder, so a restarted server finds its data again);
/// `None` when tests run on SQLite.
pub fn database_for(data_dir: &std::path::Path) -> anyhow::Result<Option<String>> {
    if let Ok(url) = std::fs::read_to_string(data_dir.join(DATABASE_URL_FILE)) {
        return Ok(Some(url.trim().to_owned()));
    }
    if !postgres_backend() {
        return Ok(None);
    }
    let admin_url = std::env::var("DOORSTEP_TEST_POSTGRES").context(
        "DOORSTEP_TEST_BACKEND=postgres needs DOORSTEP_TEST_POSTGRES (a URL of a role that \
         may create databases); `scripts/postgres.sh` starts one and prints it",
    )?;
    let digest = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        data_dir.hash(&mut h);
        h.finish()
    };
    let name = format!("doorstep_t_{digest:016x}");
    let mut client = postgres::Client::connect(&admin_url, postgres::NoTls)
        .context("connecting to the test PostgreSQL")?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .context("looking up the test database")?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .context("creating the test database")?;
    }
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    Ok(Some(format!("{base}/{name}")))
}

/// Every process's id and `/proc` folder, as `ps` sees them.
pub fn processes() -> anyhow::Result<Vec<(i32, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        {
            out.push((pid, entry.path()));
        }
    }
    Ok(out)
}

/// The resident memory (VmRSS) of process `root` and of every process below it, in
/// bytes, each with its name: read from `/proc`, as `ps` would.
pub fn tree_memory(root: i32) -> anyhow::Result<Vec<(String, u64)>> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    for (pid, dir) in processes()? {
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        if let Some(ppid) = status_field(&status, "PPid:").and_then(|v| v.parse().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while let Some(&pid) = tree.get(i) {
        tree.extend(parents.iter().filter(|(_, p)| *p == pid).map(|(c, _)| *c));
        i += 1;
    }
    let mut out = Vec::new();
    for pid in tree {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let name = status_field(&status, "Name:")
            .unwrap_or_default()
            .to_owned();
        let kib: u64 = status_field(&status, "VmRSS:")
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        out.push((name, kib * 1024));
    }
    Ok(out)
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}
