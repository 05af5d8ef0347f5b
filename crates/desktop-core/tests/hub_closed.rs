//! The hub closes the app's connection (here: the window wrote the text
//! faster than the hub lets one connection send): Socket.IO clients do not
//! reconnect after a server-side disconnect by themselves, so the core
//! starts a new link after a pause, and its text, kept meanwhile, catches
//! up with the hub's.

mod common;

use std::time::{Duration, Instant};

use anyhow::bail;
use pushdesk_desktop_core::link::UiStatus;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_core_reconnects_after_the_hub_closes_its_connection() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let data = tempfile::tempdir()?;
        let hub = pushdesk_hub::start(pushdesk_hub::HubConfig::new(
            ([127, 0, 0, 1], 0).into(),
            data.path().to_owned(),
        ))
        .await?;
        let dir = tempfile::tempdir()?;
        let core = common::core_on(dir.path(), &hub.url()).await?;
        common::wait_connected(&core).await?;

        // Far more text messages at once than the hub's burst allows.
        let mut text = String::new();
        let mut writes = Vec::new();
        for i in 0..300 {
            let before = text.clone();
            text.push(char::from(b'a' + (i % 26) as u8));
            let core = core.clone();
            let after = text.clone();
            writes.push(tokio::spawn(async move {
                core.send_text(after, Some(before)).await
            }));
        }
        let deadline = Instant::now() + WAIT;
        while core.snapshot(false).status == UiStatus::Connected {
            if Instant::now() > deadline {
                bail!("the hub never closed the connection");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for write in writes {
            write.await?;
        }
        // Back by itself, and the hub has the whole text.
        common::wait_connected(&core).await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let on_hub = probe(&hub.url()).await?;
            if on_hub == text {
                break;
            }
            if Instant::now() > deadline {
                bail!("the hub has {on_hub:?}, not the core's {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        core.shutdown().await;
        hub.shutdown().await?;
        anyhow::Ok(())
    })
    .await?
}

/// The hub's text, as a seed client is sent it on connecting.
async fn probe(url: &str) -> anyhow::Result<String> {
    use pushdesk_socketio::{ClientBuilder, SocketEvent, Value};
    let (client, _socket, mut events) = ClientBuilder::new(url).connect()?;
    loop {
        match tokio::time::timeout(WAIT, events.next()).await? {
            Some(SocketEvent::Event(ev)) if ev.name == "text_update" => {
                let text = ev
                    .payload
                    .first()
                    .and_then(|v| v.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                client.disconnect().await;
                return Ok(text);
            }
            Some(_) => {}
            None => bail!("the hub closed the probe's connection"),
        }
    }
}
