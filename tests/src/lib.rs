//! Test support for Pushdesk's end-to-end tests: the real reference Socket.IO
//! peers, started on `127.0.0.1` with free ports.
//!
//! This crate owns:
//! * the peers' sources under `tests/peers/` — the Node reference server
//!   (`peers/node/server.js`, socket.io 4.8), the seed's Flask-SocketIO app
//!   (`peers/python/seed_app.py`) and Python clients (`peers/python/seed_*.py`);
//! * their one-time installation ([`ensure_node_modules`],
//!   [`ensure_python_venv`]), safe when many test processes race for it;
//! * handles that start and stop them: [`NodePeer`], [`FlaskSeed`], the seed's
//!   Python text client [`FlaskTextClient`], the
//!   in-process socketioxide server [`SioxServer`] and the never-pinging
//!   Engine.IO server [`SilentServer`], and a real notification daemon
//!   (dunst on a private D-Bus and Xvfb) [`NotificationDaemon`], and a
//!   Tauri app driven over WebDriver on that display and bus [`Desktop`]
//!   (with its process tree, PSS and wake-up readers in [`peers::desktop`]);
//! * small loopback helpers: [`free_port`], [`http_get`],
//!   [`polling_handshake`];
//! * [`Pki`]: a private CA and a server certificate for TLS tests;
//! * [`TcpProxy`]: a loopback proxy that cuts one client off its server;
//!   [`ChaosProxy`]: one that cuts, resets, stalls and delays every
//!   connection at random.
//!
//! Every wait is bounded; every spawned process is killed when its handle is
//! dropped.

pub mod chaos;
pub mod http;
pub mod peers;
pub mod pki;
pub mod ports;
pub mod proxy;
pub mod setup;

pub use chaos::{ChaosProxy, FaultCounts};
pub use http::{HttpResponse, http_get, polling_handshake};
pub use peers::desktop::Desktop;
pub use peers::dunst::{DunstNotification, NotificationDaemon};
pub use peers::flask::FlaskSeed;
pub use peers::flask_text::FlaskTextClient;
pub use peers::hostile::{HostileServer, Misbehaviour, Outcome};
pub use peers::hub::{HubProcess, TempDir};
pub use peers::node::{NodeOptions, NodePeer, NodeTransports};
pub use peers::redis::RedisServer;
pub use peers::silent::SilentServer;
pub use peers::siox::SioxServer;
pub use pki::Pki;
pub use ports::{free_port, try_free_port};
pub use proxy::TcpProxy;
pub use setup::{ensure_node_modules, ensure_python_venv, node_peer_dir, python_peer_dir};
