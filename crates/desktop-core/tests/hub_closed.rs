//! The server closes the app's connection (a Socket.IO server-side
//! disconnect, as our hub does to a client it finds too slow or too busy):
//! Socket.IO clients do not reconnect after that by themselves, so the core
//! starts a new link after a pause. Against the reference Node socket.io
//! server (`tests/peers/node/server.js`), which disconnects the sender of
//! a `__disconnect_me__` notification.

mod common;

use std::time::{Duration, Instant};

use anyhow::bail;
use pushdesk_desktop_core::link::UiStatus;
use pushdesk_e2e::{NodeOptions, NodePeer};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_core_reconnects_after_the_server_disconnects_it() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let node = NodePeer::start(NodeOptions::default()).await?;
        let dir = tempfile::tempdir()?;
        let core = common::core_on(dir.path(), &node.url()).await?;
        common::wait_connected(&core).await?;
        let _ = core
            .send_notification(serde_json::json!({"text": "__disconnect_me__"}))
            .await;
        let deadline = Instant::now() + WAIT;
        while core.snapshot(false).status == UiStatus::Connected {
            if Instant::now() > deadline {
                bail!("the server never disconnected the core");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Back by itself.
        common::wait_connected(&core).await?;
        core.shutdown().await;
        anyhow::Ok(())
    })
    .await?
}
