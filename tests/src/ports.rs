//! Free loopback ports.

use std::net::TcpListener;

/// Asks the OS for a free port on `127.0.0.1` (binds port 0, reads the port,
/// releases it). Another process may take it before you bind it again, so a
/// caller that can retry should.
pub fn try_free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// [`try_free_port`] for tests: panics if loopback cannot be bound at all.
pub fn free_port() -> u16 {
    try_free_port().expect("binding 127.0.0.1:0 to find a free port")
}
