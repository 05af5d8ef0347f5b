//! The Pushdesk hub: a drop-in replacement for the seed's Flask-SocketIO
//! server (socketioxide on axum) that keeps every notification, checks who
//! connects, limits what they send, and scales out over Redis.
//!
//! * [`config`]: what the hub is told ([`HubConfig`], [`Limits`]).
//! * [`store`]: user count, shared text and notification history, in
//!   process with SQLite or in Redis for several nodes.
//! * [`handlers`]: the Socket.IO events, generic over the adapter.
//! * [`delivery`]: each stored notification to this node's sockets, in id
//!   order (with Redis, every node following the history).
//! * [`server`]: HTTP: the embedded UI, `/health`, the origin check, TLS.
//! * [`access`]: origin allow-list, [`Rights`](access::Rights)
//!   on channel patterns. Pure.
//! * [`tokens`]: the credentials: `--token` and the tokens file of hashed,
//!   scoped tokens.
//! * [`subscription`]: which channels a socket follows. Pure.
//! * [`text`]: the shared text's CRDT document on this node, the sockets
//!   sharing it (Yjs peers and seed peers with shadows), its storage.
//! * [`http`]: publishing and subscribing over plain HTTP: the native API,
//!   ntfy's and Gotify's.
//! * [`ratelimit`]: the per-connection token bucket. Pure.
//! * [`pubsub`]: the Redis pub/sub under the Socket.IO adapter, reconnecting.
//! * [`assets`]: the embedded web UI and its CSP.
//! * [`error`]: why a hub could not start ([`HubError`]).

pub mod access;
pub mod assets;
pub mod config;
pub mod conncap;
pub mod delivery;
pub mod error;
pub mod handlers;
pub mod http;
pub mod pubsub;
pub mod ratelimit;
pub mod server;
pub mod store;
pub mod subscription;
pub mod text;
pub mod tokens;

pub use config::{HubConfig, Limits};
pub use error::HubError;
pub use server::{RunningHub, start};
pub use store::{Retention, Store};
