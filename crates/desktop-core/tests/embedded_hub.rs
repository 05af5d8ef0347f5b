//! The tray's embedded hub (no hub configured) takes only the token the
//! tray made for it: the core connects with it, while a Socket.IO client
//! without it or with another one, and an HTTP publish without it, are
//! refused. Real core, real in-process hub, real sockets.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pushdesk_desktop_core::core::{Core, Overrides};
use pushdesk_desktop_core::link::UiStatus;
use pushdesk_socketio::{ClientBuilder, ReconnectPolicy, SocketEvent, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::NoViews;

const WAIT: Duration = Duration::from_secs(15);

/// What a Socket.IO client with `auth` gets first from `url`: `Ok(())` when
/// connected, the connect error's payload otherwise.
async fn first_answer(url: &str, auth: Option<Value>) -> anyhow::Result<Result<(), Value>> {
    let mut builder = ClientBuilder::new(url).reconnect(ReconnectPolicy::disabled());
    if let Some(auth) = auth {
        builder = builder.auth(auth);
    }
    let (client, _socket, mut events) = builder.connect()?;
    let answer = loop {
        match tokio::time::timeout(WAIT, events.next()).await? {
            Some(SocketEvent::Connected { .. }) => break Ok(()),
            Some(SocketEvent::ConnectError(e)) => break Err(e),
            Some(_) => {}
            None => bail!("the client stopped: {:?}", client.state()),
        }
    };
    client.disconnect().await;
    Ok(answer)
}

/// The status line of a raw `POST /api/v1/notifications` without a token.
async fn publish_without_token(port: u16) -> anyhow::Result<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let body = r#"{"title":"injected"}"#;
    s.write_all(
        format!(
            "POST /api/v1/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    let mut answer = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut answer)).await??;
    Ok(answer.lines().next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn the_embedded_hub_takes_only_the_trays_own_token() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let dir = tempfile::tempdir()?;
        let core: Arc<Core> = Core::open(
            dir.path().to_owned(),
            Overrides::default(),
            Box::new(NoViews),
            "Pushdesk test",
        )
        .await?;
        core.connect().await?;
        // The tray's own token is accepted: the core connects.
        let deadline = Instant::now() + WAIT;
        while core.snapshot(false).status != UiStatus::Connected {
            if Instant::now() > deadline {
                bail!(
                    "the core did not connect to its embedded hub: {:?}",
                    core.snapshot(false).status
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let label = core.snapshot(false).server;
        let url = label
            .strip_prefix("embedded hub (")
            .and_then(|s| s.strip_suffix(')'))
            .with_context(|| format!("the embedded hub's URL in {label:?}"))?
            .to_owned();
        let port: u16 = url.rsplit(':').next().context("a port")?.parse()?;

        let refused = first_answer(&url, None).await?;
        assert!(
            refused.is_err(),
            "a client without the token must be refused"
        );
        let message = refused.err().unwrap_or_default().to_string();
        assert!(message.contains("token"), "the refusal says why: {message}");
        let refused = first_answer(&url, Some(json!({"token": "guessed"}))).await?;
        assert!(
            refused.is_err(),
            "a client with another token must be refused"
        );

        let status = publish_without_token(port).await?;
        assert!(
            status.contains(" 401 "),
            "an HTTP publish without the token: {status}"
        );

        // And the core is still connected after all that.
        assert_eq!(core.snapshot(false).status, UiStatus::Connected);
        core.shutdown().await;
        Ok(())
    })
    .await?
}
