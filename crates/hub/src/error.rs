//! [`HubError`]: why a hub could not start or stopped.

use std::net::SocketAddr;

use crate::store::StoreError;

/// Why a hub could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The store (SQLite or Redis) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, String),
    /// The certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// Redis could not be reached or configured.
    #[error("Redis: {0}")]
    Redis(String),
    /// The tokens file could not be read.
    #[error(transparent)]
    Tokens(#[from] crate::tokens::TokensError),
    /// The server failed while running.
    #[error("server: {0}")]
    Serve(String),
}
