//! Shared by the core's integration tests.

use pushdesk_desktop_core::core::{Core, Overrides, Snapshot, Views};
use pushdesk_desktop_core::link::UiStatus;
use pushdesk_desktop_core::settings::Settings;
use serde_json::Value;

/// No window, no tray: the tests read the core directly.
pub struct NoViews;

impl Views for NoViews {
    fn emit(&self, _: &str, _: Value) {}
    fn summary(&self, _: &Snapshot) {}
    fn open_window(&self) {}
    fn window_focused(&self) -> bool {
        false
    }
    fn open_url(&self, _: &str) {}
    fn autostart(&self, _: bool) -> Result<(), String> {
        Ok(())
    }
}

/// A core with its data in `dir`, no window.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub async fn open_core(dir: &std::path::Path) -> anyhow::Result<std::sync::Arc<Core>> {
    Core::open(
        dir.to_owned(),
        Overrides::default(),
        Box::new(NoViews),
        "Pushdesk test",
    )
    .await
}

/// Waits (15 s at most) until `core` is connected to its hub.
#[allow(dead_code)]
pub async fn wait_connected(core: &Core) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while core.snapshot(false).status != UiStatus::Connected {
        if std::time::Instant::now() > deadline {
            anyhow::bail!("not connected: {:?}", core.snapshot(false).status);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A core with its data in `dir`, set to the hub at `url` and connected to it.
#[allow(dead_code)]
pub async fn core_on(dir: &std::path::Path, url: &str) -> anyhow::Result<std::sync::Arc<Core>> {
    let core = open_core(dir).await?;
    core.save_settings(Settings {
        server: Some(url.to_owned()),
        ..Settings::default()
    })
    .await
    .map_err(anyhow::Error::msg)?;
    wait_connected(&core).await?;
    Ok(core)
}
