//! One-time installation of the peers' dependencies (`npm ci`, a Python
//! venv), safe when many test processes call it at once.
//!
//! Each installation runs under an exclusive file lock (`tests/peers/.*.lock`)
//! and is recorded by a stamp holding a hash of its lock/requirements file; a
//! caller that waited for the lock re-checks the stamp and finds the work
//! done. Install output goes to `tests/peers/.*.log`; its tail is in the error
//! on failure.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How long an install (and so a wait for another process's install) may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// `tests/peers`.
fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// `tests/peers/node`: the Node reference server and its package files.
pub fn node_peer_dir() -> PathBuf {
    peers_dir().join("node")
}

/// `tests/peers/python`: the seed's Flask-SocketIO app and requirements.
pub fn python_peer_dir() -> PathBuf {
    peers_dir().join("python")
}

/// Makes sure `tests/peers/node/node_modules` matches `package-lock.json`,
/// running `npm ci --no-audit --no-fund` if it is missing or was installed
/// from another lock file. Returns the `node_modules` path.
///
/// Blocking (call it from `spawn_blocking` in async code; [`crate::NodePeer`]
/// does). Safe to call concurrently from many processes and threads.
pub fn ensure_node_modules() -> anyhow::Result<PathBuf> {
    static DONE: Mutex<Option<PathBuf>> = Mutex::new(None);
    once_per_process(&DONE, || {
        let dir = node_peer_dir();
        let modules = dir.join("node_modules");
        let stamp = modules.join(".pushdesk-installed");
        let want = hash_file(&dir.join("package-lock.json"))?;
        with_file_lock(&peers_dir().join(".node-setup.lock"), || {
            if read_stamp(&stamp).as_deref() == Some(want.as_str()) {
                return Ok(());
            }
            let mut npm = Command::new("npm");
            npm.args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir);
            run_logged(npm, &peers_dir().join(".node-setup.log"))
                .context("`npm ci` in tests/peers/node failed (is Node.js/npm installed?)")?;
            fs::write(&stamp, &want).context("writing node_modules stamp")?;
            Ok(())
        })?;
        Ok(modules)
    })
}

/// Makes sure `tests/peers/python/.venv` exists with `requirements.txt`
/// installed (re-created whenever `requirements.txt` changes). Returns the
/// venv's Python executable.
///
/// Blocking (call it from `spawn_blocking` in async code; [`crate::FlaskSeed`]
/// does). Safe to call concurrently from many processes and threads.
pub fn ensure_python_venv() -> anyhow::Result<PathBuf> {
    static DONE: Mutex<Option<PathBuf>> = Mutex::new(None);
    once_per_process(&DONE, || {
        let dir = python_peer_dir();
        let venv = dir.join(".venv");
        let python = venv.join("bin").join("python");
        let stamp = venv.join(".pushdesk-requirements");
        let want = hash_file(&dir.join("requirements.txt"))?;
        with_file_lock(&peers_dir().join(".python-setup.lock"), || {
            if python.exists() && read_stamp(&stamp).as_deref() == Some(want.as_str()) {
                return Ok(());
            }
            let log = peers_dir().join(".python-setup.log");
            if venv.exists() {
                fs::remove_dir_all(&venv).context("removing the stale venv")?;
            }
            let mut mk = Command::new("python3");
            mk.args(["-m", "venv", ".venv"]).current_dir(&dir);
            run_logged(mk, &log)
                .context("`python3 -m venv` failed (is python3-venv installed?)")?;
            let mut pip = Command::new(&python);
            pip.args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                "requirements.txt",
            ])
            .current_dir(&dir);
            run_logged(pip, &log)
                .context("pip install -r tests/peers/python/requirements.txt failed")?;
            fs::write(&stamp, &want).context("writing venv stamp")?;
            Ok(())
        })?;
        Ok(python)
    })
}

/// Runs `f` once per process successfully; later calls return its result.
fn once_per_process(
    cell: &Mutex<Option<PathBuf>>,
    f: impl FnOnce() -> anyhow::Result<PathBuf>,
) -> anyhow::Result<PathBuf> {
    // A panic in another test thread must not poison the setup for the rest.
    let mut done = cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(path) = done.as_ref() {
        return Ok(path.clone());
    }
    let path = f()?;
    *done = Some(path.clone());
    Ok(path)
}

/// Runs `f` holding an exclusive lock on `lock_path` (waiting at most
/// [`INSTALL_TIMEOUT`] for it).
fn with_file_lock(lock_path: &Path, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(lock_path)
        .with_context(|| format!("opening lock file {}", lock_path.display()))?;
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => {
                bail!("timed out waiting for {}", lock_path.display())
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", lock_path.display()));
            }
        }
    }
    let result = f();
    // Closing the file releases the lock too; unlocking first is just explicit.
    let _ = file.unlock();
    result
}

/// Runs `cmd` with stdout and stderr appended to `log`, killing it after
/// [`INSTALL_TIMEOUT`]. On failure the error carries the log's tail.
fn run_logged(mut cmd: Command, log: &Path) -> anyhow::Result<()> {
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let start_len = out.seek(SeekFrom::End(0))?;
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out.try_clone()?);
    let mut child = cmd.spawn().with_context(|| format!("spawning {shown}"))?;
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{shown} timed out after {INSTALL_TIMEOUT:?}{}",
                log_tail(&mut out, start_len)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        bail!(
            "{shown} exited with {status}{}",
            log_tail(&mut out, start_len)
        );
    }
    Ok(())
}

/// The last few KB written to the log since `from`, formatted for an error.
fn log_tail(log: &mut File, from: u64) -> String {
    const TAIL: u64 = 4000;
    let mut text = String::new();
    let end = log.seek(SeekFrom::End(0)).unwrap_or(from);
    let start = from.max(end.saturating_sub(TAIL));
    if log.seek(SeekFrom::Start(start)).is_ok() {
        let mut bytes = Vec::new();
        let _ = log.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    format!("\n--- output (tail) ---\n{text}")
}

fn read_stamp(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// A stable 64-bit FNV-1a hash of the file, as hex.
fn hash_file(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Ok(format!("fnv1a64:{hash:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        let dir = std::env::temp_dir().join(format!("pushdesk-e2e-hash-{}", std::process::id()));
        fs::write(&dir, b"a").expect("write temp file");
        assert_eq!(hash_file(&dir).expect("hash"), "fnv1a64:af63dc4c8601ec8c");
        let _ = fs::remove_file(&dir);
    }
}
