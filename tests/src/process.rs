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
    let listener = TcpListener::bind("127.0.0.1:0").context("asking the OS for a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on {addr} within {timeout:?}")
}

/// A child process killed (and reaped) when dropped.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `doorstep-server serve` child on a free loopback port.
#[derive(Debug)]
pub struct ServerProcess {
    pub addr: SocketAddr,
    _child: KillOnDrop,
}

impl ServerProcess {
    pub fn start() -> anyhow::Result<ServerProcess> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let child = Command::new(workspace_binary("doorstep-server")?)
            .args(["serve", "--listen", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .context("starting doorstep-server")?;
        let child = KillOnDrop(child);
        wait_for_port(addr, Duration::from_secs(20))?;
        Ok(ServerProcess {
            addr,
            _child: child,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
