//! Finding, installing and starting `moto_server`, once per test process.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming an already running moto server (`http://127.0.0.1:5000`).
pub const MOTO_URL_ENV: &str = "XACCT_TEST_MOTO_URL";

/// How long a freshly started server may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `moto_server` (argv[1:]) in its own process group and kills that group as soon as its
/// own stdin reaches EOF, which happens when the test process that holds the pipe exits for any
/// reason (including SIGKILL). Exits with the server's status if the server dies first.
const WATCHDOG: &str = r#"
import os, signal, subprocess, sys, threading
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
def watch():
    try:
        sys.stdin.buffer.read()
    except Exception:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except Exception:
        pass
threading.Thread(target=watch, daemon=True).start()
sys.exit(p.wait())
"#;

/// A server this process started; kept alive by holding the watchdog's stdin.
pub(crate) struct Started {
    pub(crate) url: String,
    _watchdog: Child,
    _lifeline: ChildStdin,
}

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|dir| is_workspace_root(dir))
        .unwrap_or_else(|| here.parent().and_then(Path::parent).unwrap_or(here))
        .to_path_buf()
}

fn is_workspace_root(dir: &Path) -> bool {
    fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]"))
}

fn venv_dir() -> PathBuf {
    workspace_root().join("target").join("moto-venv")
}

/// Start a server on a free loopback port, installing moto first when no usable one exists.
pub(crate) fn start() -> Started {
    let python = find_on_path("python3").unwrap_or_else(|| {
        panic!(
            "xacct tests need Python 3 to run the moto emulator, and `python3` is not on PATH.\n\
             hint: install Python 3 (with venv and pip), or start `moto_server -H 127.0.0.1 -p 5000` \
             yourself and set {MOTO_URL_ENV}=http://127.0.0.1:5000"
        )
    });

    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(on_path) = find_on_path("moto_server") {
        candidates.push(on_path);
    }
    let venv_server = venv_dir().join("bin").join("moto_server");
    if venv_server.is_file() {
        candidates.push(venv_server.clone());
    }
    let mut failures = Vec::new();
    for candidate in &candidates {
        match launch(&python, candidate) {
            Ok(started) => return started,
            Err(why) => failures.push(format!("{}: {why}", candidate.display())),
        }
    }

    install_into_venv(&python);
    match launch(&python, &venv_server) {
        Ok(started) => started,
        Err(why) => {
            failures.push(format!("{}: {why}", venv_server.display()));
            panic!(
                "could not start the moto emulator:\n  {}\nhint: run `{} -H 127.0.0.1 -p 5000` by hand to \
                 see why, or set {MOTO_URL_ENV} to a running server",
                failures.join("\n  "),
                venv_server.display()
            )
        }
    }
}

/// Start one candidate binary (retrying on a fresh port a few times) and wait until it answers.
fn launch(python: &Path, moto_server: &Path) -> Result<Started, String> {
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| format!("no free loopback port: {e}"))?;
        let mut watchdog = Command::new(python)
            .arg("-c")
            .arg(WATCHDOG)
            .arg(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env_remove("MOTO_ACCOUNT_ID")
            // AWS-managed policies exist to attach; scripts/lib/moto-site builds them lazily, per
            // account that looks at managed policies, so fresh accounts stay cheap.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("PYTHONPATH", python_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not spawn {}: {e}", python.display()))?;
        let lifeline = watchdog.stdin.take().expect("piped stdin");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if answers_http(addr) {
                return Ok(Started { url: format!("http://{addr}"), _watchdog: watchdog, _lifeline: lifeline });
            }
            if let Ok(Some(status)) = watchdog.try_wait() {
                last = format!("exited with {status} before answering on port {port}");
                break;
            }
            if Instant::now() > deadline {
                drop(lifeline);
                let _ = watchdog.wait();
                return Err(format!("did not answer on port {port} within {}s", START_TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err(last)
}

/// `PYTHONPATH` for the server: `scripts/lib/moto-site` (its `sitecustomize.py`) first.
fn python_path() -> std::ffi::OsString {
    let mut paths = vec![workspace_root().join("scripts").join("lib").join("moto-site")];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// True when something on `addr` answers an HTTP request with an HTTP status line.
pub(crate) fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Create `<workspace>/target/moto-venv` and install `moto[server]` into it, under an exclusive
/// file lock so that parallel test processes install it once.
fn install_into_venv(python: &Path) {
    let venv = venv_dir();
    let target = venv.parent().expect("venv has a parent").to_path_buf();
    fs::create_dir_all(&target).unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let lock_path = target.join("moto-venv.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    let _held = FlockGuard::exclusive(&lock);

    let server = venv.join("bin").join("moto_server");
    if server.is_file() {
        return;
    }
    let pip = venv.join("bin").join("pip");
    if !pip.is_file() {
        run(Command::new(python).arg("-m").arg("venv").arg(&venv), "create the moto virtualenv");
    }
    run(
        Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", "moto[server]"]),
        "install moto[server] into the virtualenv",
    );
    assert!(server.is_file(), "installing moto[server] did not produce {}", server.display());
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not {what}: {e}\nhint: is Python 3 with venv and pip installed?"));
    assert!(
        output.status.success(),
        "could not {what} ({}):\n{}{}\nhint: is Python 3 with venv and pip installed, and PyPI reachable?",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An exclusive `flock` held until drop.
struct FlockGuard<'a>(&'a File);

impl<'a> FlockGuard<'a> {
    fn exclusive(file: &'a File) -> Self {
        loop {
            // SAFETY: flock on a file descriptor we own for the guard's lifetime.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return FlockGuard(file);
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                panic!("cannot lock the moto install lock file: {err}");
            }
        }
    }
}

impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: see `exclusive`.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
