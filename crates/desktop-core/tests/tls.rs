//! The settings' TLS options against a real hub over HTTPS whose
//! certificate comes from a private CA: refused by default (the status
//! says why), connected once the CA file is set, and connected with the
//! accept-invalid-certificates opt-in instead of the CA.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use pushdesk_desktop_core::core::{Core, Overrides, Snapshot};
use pushdesk_desktop_core::link::UiStatus;
use pushdesk_desktop_core::settings::Settings;
use pushdesk_e2e::Pki;

use common::NoViews;

const WAIT: Duration = Duration::from_secs(15);

/// Polls the core until its snapshot passes `check`.
async fn wait_for(
    core: &Core,
    what: &str,
    check: impl Fn(&Snapshot) -> bool,
) -> anyhow::Result<Snapshot> {
    let deadline = Instant::now() + WAIT;
    loop {
        let snapshot = core.snapshot(false);
        if check(&snapshot) {
            return Ok(snapshot);
        }
        if Instant::now() > deadline {
            bail!("{what}: still {:?} after {WAIT:?}", snapshot.status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_private_ca_or_the_opt_in_lets_the_app_reach_a_tls_hub() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let pki = Pki::generate()?;
        let hub_dir = tempfile::tempdir()?;
        let mut config =
            pushdesk_hub::HubConfig::new(([127, 0, 0, 1], 0).into(), hub_dir.path().to_owned());
        config.tls = Some((pki.cert.clone(), pki.key.clone()));
        let hub = pushdesk_hub::start(config).await?;
        assert!(hub.url().starts_with("https://"), "{}", hub.url());

        let dir = tempfile::tempdir()?;
        let core: Arc<Core> = Core::open(
            dir.path().to_owned(),
            Overrides::default(),
            Box::new(NoViews),
            "Pushdesk test",
        )
        .await?;
        let https = Settings {
            server: Some(hub.url()),
            ..Settings::default()
        };

        // By default the private CA is not trusted, and the user is told.
        core.save_settings(https.clone())
            .await
            .map_err(anyhow::Error::msg)?;
        let refused = wait_for(&core, "refused", |s| {
            matches!(
                s.status,
                UiStatus::Reconnecting { error: Some(_), .. } | UiStatus::Disconnected { .. }
            )
        })
        .await?
        .status;
        let why = format!("{refused:?}").to_lowercase();
        assert!(why.contains("certificate"), "{refused:?}");

        // The CA file from the settings is trusted.
        core.save_settings(Settings {
            ca_cert: Some(pki.ca.clone()),
            ..https.clone()
        })
        .await
        .map_err(anyhow::Error::msg)?;
        // Connected, and the hub talks to us: its user count arrives.
        wait_for(&core, "connected with the CA", |s| {
            s.status == UiStatus::Connected && s.count == Some(1)
        })
        .await?;

        // So is anything, on the explicit opt-in.
        core.save_settings(https.clone())
            .await
            .map_err(anyhow::Error::msg)?;
        wait_for(&core, "refused again", |s| s.status != UiStatus::Connected).await?;
        core.save_settings(Settings {
            accept_invalid_certs: true,
            ..https
        })
        .await
        .map_err(anyhow::Error::msg)?;
        wait_for(&core, "connected on the opt-in", |s| {
            s.status == UiStatus::Connected
        })
        .await?;

        core.shutdown().await;
        hub.shutdown().await?;
        anyhow::Ok(())
    })
    .await?
}
