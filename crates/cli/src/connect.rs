//! Connection flags every command shares (`--server`, `--token`, TLS,
//! transport) and how they become a client builder.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use pushdesk_socketio::{
    Client, ClientBuilder, Events, ReconnectPolicy, Socket, SocketEvent, TransportMode, Value, json,
};

/// Where the hub is and how to reach it.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// Hub URL (http, https, ws or wss). A path selects a Socket.IO namespace.
    #[arg(long, env = "PUSHDESK_SERVER", default_value = "http://127.0.0.1:5000")]
    pub server: String,
    /// Access token, sent as `{"token": …}` in the Socket.IO auth payload.
    #[arg(long, env = "PUSHDESK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Transport: auto (WebSocket, else long-polling), websocket, polling, or
    /// polling-upgrade (long-polling, then upgrade like the browser client).
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
    /// Extra CA certificate (PEM file) to trust, for a self-hosted hub.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate, self-signed included. Only for a hub you
    /// control: anyone in the middle could read the traffic.
    #[arg(long)]
    pub insecure: bool,
}

/// `--transport` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Transport {
    /// WebSocket, falling back to long-polling.
    Auto,
    /// WebSocket only.
    Websocket,
    /// HTTP long-polling only.
    Polling,
    /// Long-polling, then upgrade to WebSocket.
    PollingUpgrade,
}

impl ConnectArgs {
    /// A client builder for these flags.
    pub fn builder(&self) -> anyhow::Result<ClientBuilder> {
        let mut b = ClientBuilder::new(&self.server).transport(match self.transport {
            Transport::Auto => TransportMode::Auto,
            Transport::Websocket => TransportMode::WebSocket,
            Transport::Polling => TransportMode::Polling,
            Transport::PollingUpgrade => TransportMode::PollingThenUpgrade,
        });
        if let Some(token) = &self.token {
            b = b.auth(json!({ "token": token }));
        }
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading CA certificate {}", path.display()))?;
            b = b.add_root_certificate_pem(pem);
        }
        Ok(b.danger_accept_invalid_certs(self.insecure))
    }
}

impl ConnectArgs {
    /// A client for one request (`send`, `text`): a couple of quick retries,
    /// then it gives up rather than reconnecting forever.
    pub fn connect_once(&self, timeout: Duration) -> anyhow::Result<(Client, Socket, Events)> {
        self.connect_once_with(timeout, &[])
    }

    /// [`Self::connect_once`] with more fields in the auth payload (beside
    /// the token), such as `text: "yjs"`.
    pub fn connect_once_with(
        &self,
        timeout: Duration,
        auth: &[(&str, Value)],
    ) -> anyhow::Result<(Client, Socket, Events)> {
        let mut builder = self.builder()?;
        if !auth.is_empty() {
            let mut fields = serde_json::Map::new();
            if let Some(token) = &self.token {
                fields.insert("token".into(), Value::from(token.as_str()));
            }
            for (key, value) in auth {
                fields.insert((*key).into(), value.clone());
            }
            builder = builder.auth(Value::Object(fields));
        }
        let policy = ReconnectPolicy {
            max_attempts: Some(2),
            delay: Duration::from_millis(300),
            ..Default::default()
        };
        Ok(builder
            .reconnect(policy)
            .connect_timeout(timeout)
            .connect()?)
    }
}

/// Waits until the namespace is connected; a refusal or a failure to connect
/// becomes a one-line error naming the hub.
pub async fn wait_connected(
    events: &mut Events,
    client: &Client,
    server: &str,
) -> anyhow::Result<()> {
    loop {
        match events.next().await {
            Some(SocketEvent::Connected { .. }) => return Ok(()),
            Some(SocketEvent::ConnectError(e)) => {
                bail!("the hub refused the connection: {}", refusal_message(&e))
            }
            Some(_) => {}
            None => bail!("could not connect to {server}: {}", client.state()),
        }
    }
}

/// The message of a connect error payload (an object with `message`, or a bare string).
pub fn refusal_message(data: &Value) -> String {
    data.get("message").and_then(Value::as_str).map_or_else(
        || {
            data.as_str()
                .map_or_else(|| data.to_string(), str::to_owned)
        },
        str::to_owned,
    )
}
