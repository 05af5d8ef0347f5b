//! A hub whose data was wiped hands out ids from 1 again: the core, with a
//! real in-process hub on the same address before and after, still takes
//! the new notifications as new (the hub's history epoch changed) instead
//! of dropping them as already seen.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pushdesk_desktop_core::core::Core;
use pushdesk_socketio::{ClientBuilder, SocketEvent, json};

const WAIT: Duration = Duration::from_secs(15);

async fn start_hub(addr: SocketAddr, dir: &Path) -> anyhow::Result<pushdesk_hub::RunningHub> {
    let config = pushdesk_hub::HubConfig::new(addr, dir.to_owned());
    Ok(pushdesk_hub::start(config).await?)
}

/// Publishes one notification titled `title` on the hub at `url`.
async fn publish(url: &str, title: &str) -> anyhow::Result<u64> {
    let (client, socket, mut events) = ClientBuilder::new(url).connect()?;
    while !matches!(
        tokio::time::timeout(WAIT, events.next()).await?,
        Some(SocketEvent::Connected { .. })
    ) {}
    let ack = socket
        .emit_with_ack("send_notification_request", json!({"title": title}), WAIT)
        .await?;
    client.disconnect().await;
    ack.first()
        .and_then(|v| v.get("id"))
        .and_then(serde_json::Value::as_u64)
        .context("the hub's ack has an id")
}

/// Polls until the core's history has a notification titled `title`.
async fn shown(core: &Core, title: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if core.history(50).iter().any(|n| n["title"] == title) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{title:?} not in the history: {:?}", core.history(50))
}

#[tokio::test]
async fn a_wiped_hub_s_new_notifications_are_not_taken_for_replays() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let first_dir = tempfile::tempdir()?;
        let hub = start_hub(([127, 0, 0, 1], 0).into(), first_dir.path()).await?;
        let addr = hub.local_addr();
        let url = hub.url();

        let dir = tempfile::tempdir()?;
        let core = common::core_on(dir.path(), &url).await?;
        // Seen: ids 1 and 2 of the first hub.
        for title in ["before 1", "before 2"] {
            publish(&url, title).await?;
            shown(&core, title).await?;
        }

        // The hub's data is wiped. While it is away, its new life begins:
        // ids 1 and 2 again, published before the core is back.
        hub.shutdown().await?;
        let wiped = tempfile::tempdir()?;
        let elsewhere = start_hub(([127, 0, 0, 1], 0).into(), wiped.path()).await?;
        assert_eq!(publish(&elsewhere.url(), "after 1").await?, 1);
        elsewhere.shutdown().await?;
        let hub = start_hub(addr, wiped.path()).await?;
        // Live too, once the core is back.
        shown(&core, "after 1").await?;
        let id = publish(&url, "after 2").await?;
        assert_eq!(id, 2);
        shown(&core, "after 2").await?;

        core.shutdown().await;
        hub.shutdown().await?;
        anyhow::Ok(())
    })
    .await?
}
