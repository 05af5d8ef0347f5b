//! `RunningHub::shutdown` ends every Socket.IO session: an upgraded
//! WebSocket must not outlive the hub it belongs to (a client would stay
//! attached to a hub that is gone, and never reconnect to its successor).

use std::time::Duration;

use pushdesk_e2e::TempDir;
use pushdesk_hub::{HubConfig, start};
use pushdesk_socketio::{ClientBuilder, ConnectionState, SocketEvent};

#[tokio::test]
async fn shutdown_disconnects_websocket_clients() -> anyhow::Result<()> {
    let dir = TempDir::new("hub-shutdown")?;
    let hub = start(HubConfig::new(
        ([127, 0, 0, 1], 0).into(),
        dir.path().to_owned(),
    ))
    .await?;
    let (client, _socket, mut events) = ClientBuilder::new(hub.url()).connect()?;
    tokio::time::timeout(Duration::from_secs(10), async {
        while !matches!(
            events.next().await,
            Some(SocketEvent::Connected { .. }) | None
        ) {}
    })
    .await?;
    let mut states = client.watch_state();
    assert!(matches!(
        *states.borrow_and_update(),
        ConnectionState::Connected { .. }
    ));

    hub.shutdown().await?;
    // The client notices at once (not after a ping timeout) and starts reconnecting.
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if !matches!(
                *states.borrow_and_update(),
                ConnectionState::Connected { .. }
            ) {
                return;
            }
            if states.changed().await.is_err() {
                return;
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("the client stayed connected to a hub that shut down"))?;
    client.disconnect().await;
    Ok(())
}
