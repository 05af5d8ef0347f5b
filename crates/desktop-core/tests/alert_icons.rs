//! A slow icon host never holds up a notification: notifications are shown
//! one after another, so each waits for its icon only a short budget
//! (`alerts::ICON_BUDGET`) and is then shown without it, while the fetch
//! goes on for next time. Against a real dunst on a private D-Bus, with an
//! icon host that accepts the connection and never answers (the icon
//! fetch's own timeout set to two minutes: only the budget can end the
//! wait within the test's bound).

use std::time::Duration;

use pushdesk_desktop_core::alerts::Alerts;
use pushdesk_e2e::NotificationDaemon;
use pushdesk_hub_model::Notification;
use pushdesk_notifier::{IconCache, IconOptions, Notifier};

#[tokio::test]
async fn a_slow_icon_host_does_not_hold_up_the_notification() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(40), async {
        let daemon = NotificationDaemon::start().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let dir = tempfile::tempdir()?;
        let icons = IconCache::with_options(
            dir.path(),
            IconOptions {
                timeout: Duration::from_secs(120),
                ..IconOptions::default()
            },
        )?;
        let notifier = Notifier::with_bus_address("Pushdesk test", daemon.bus_address()).await;
        let (alerts, _events, warning) = Alerts::with(notifier, Some(icons));
        assert_eq!(warning, None);
        // The icon is on the hub's own host, so it may be fetched from loopback.
        let hub = url::Url::parse(&format!("http://127.0.0.1:{port}/"))?;
        let n: Notification = serde_json::from_value(serde_json::json!({
            "title": "slow icon",
            "body": "shown without it",
            "icon": "/icon.png",
        }))?;
        alerts
            .show(1, &n, Some(&hub))
            .await
            .map_err(anyhow::Error::msg)?;
        daemon.wait_displayed(1, Duration::from_secs(10)).await?;
        let shown = daemon.displayed().await?;
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].summary, "slow icon");
        assert_eq!(shown[0].icon_path, "", "shown without the icon");
        held.abort();
        anyhow::Ok(())
    })
    .await?
}
