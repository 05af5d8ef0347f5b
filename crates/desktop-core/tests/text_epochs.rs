//! The hub cuts its shared text into new epochs, against a real in-process
//! hub:
//!
//! * while the app was offline with an edit of its own (its data directory
//!   served meanwhile by another hub on another address, where a seed
//!   client writes until the document is cut): the core comes back on its
//!   old epoch, is sent the reset, sends its edit in a rebase, and the hub
//!   and the core end on the same text holding both edits;
//! * while two apps' windows type fast, one at the front, one at the end,
//!   and the hub cuts every few edits: every keystroke is kept once, in
//!   order.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pushdesk_desktop_core::core::Core;
use pushdesk_socketio::{Client, ClientBuilder, Events, Socket, SocketEvent, Value, json};
use pushdesk_text::CutPolicy;

const WAIT: Duration = Duration::from_secs(15);

/// A hub that compacts every 5 stored edits and cuts at every compaction.
async fn start_hub(addr: SocketAddr, dir: &Path) -> anyhow::Result<pushdesk_hub::RunningHub> {
    start_hub_cutting_every(addr, dir, 5).await
}

/// A hub that compacts every `n` stored edits and cuts at every compaction.
async fn start_hub_cutting_every(
    addr: SocketAddr,
    dir: &Path,
    n: usize,
) -> anyhow::Result<pushdesk_hub::RunningHub> {
    let mut config = pushdesk_hub::HubConfig::new(addr, dir.to_owned());
    config.text.compact_every = n;
    config.text.cut = CutPolicy {
        min_bytes: 0,
        ratio: 1,
    };
    Ok(pushdesk_hub::start(config).await?)
}

/// A seed client: writes whole texts; returns its welcome's `text_epoch`.
struct Seed {
    client: Client,
    socket: Socket,
    events: Events,
}

impl Seed {
    async fn connect(url: &str) -> anyhow::Result<(Self, Value)> {
        let (client, socket, mut events) = ClientBuilder::new(url).connect()?;
        loop {
            match tokio::time::timeout(WAIT, events.next()).await? {
                Some(SocketEvent::Event(ev)) if ev.name == "welcome" => {
                    let welcome = ev.payload.first().cloned().unwrap_or(Value::Null);
                    return Ok((
                        Self {
                            client,
                            socket,
                            events,
                        },
                        welcome,
                    ));
                }
                Some(_) => {}
                None => bail!("the hub closed the connection"),
            }
        }
    }

    async fn write(&self, text: &str) -> anyhow::Result<()> {
        let ack = self
            .socket
            .emit_with_ack("text_update_request", json!({ "text": text }), WAIT)
            .await?;
        if ack.first() != Some(&json!({"ok": true})) {
            bail!("write refused: {:?}", ack.first());
        }
        Ok(())
    }

    /// Waits for the hub to send the text `want`.
    async fn sees(&mut self, want: &str) -> anyhow::Result<()> {
        loop {
            match tokio::time::timeout(WAIT, self.events.next())
                .await
                .with_context(|| format!("waiting for {want:?}"))?
            {
                Some(SocketEvent::Event(ev))
                    if ev.name == "text_update"
                        && ev.payload.first().and_then(|v| v.get("text")) == Some(&json!(want)) =>
                {
                    return Ok(());
                }
                Some(_) => {}
                None => bail!("the hub closed the connection"),
            }
        }
    }
}

async fn core_shows(core: &Core, want: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    while core.snapshot(false).text != want {
        if Instant::now() > deadline {
            bail!(
                "the core shows {:?}, not {want:?}",
                core.snapshot(false).text
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test]
async fn an_edit_made_offline_across_a_cut_is_merged() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let data = tempfile::tempdir()?;
        let hub = start_hub(([127, 0, 0, 1], 0).into(), data.path()).await?;
        let (addr, url) = (hub.local_addr(), hub.url());
        let dir = tempfile::tempdir()?;
        let core = common::core_on(dir.path(), &url).await?;
        core.send_text("shared text".into(), Some(String::new()))
            .await;
        let (mut seed, welcome) = Seed::connect(&url).await?;
        let first_epoch = welcome["text_epoch"].clone();
        seed.sees("shared text").await?;
        seed.client.disconnect().await;

        // The hub goes away; the app edits offline.
        hub.shutdown().await?;
        core.send_text(
            "shared text, from the app".into(),
            Some("shared text".into()),
        )
        .await;
        // Meanwhile the same data is served elsewhere, written until cut.
        let elsewhere = start_hub(([127, 0, 0, 1], 0).into(), data.path()).await?;
        let (seed, _) = Seed::connect(&elsewhere.url()).await?;
        for i in 0..12 {
            seed.write(&format!("v{i}: shared text")).await?;
        }
        seed.write("SEED: shared text").await?;
        seed.client.disconnect().await;
        let (probe, welcome) = Seed::connect(&elsewhere.url()).await?;
        probe.client.disconnect().await;
        assert_ne!(welcome["text_epoch"], first_epoch, "the document was cut");
        elsewhere.shutdown().await?;

        // Back on its address: the core's epoch is an old one.
        let hub = start_hub(addr, data.path()).await?;
        let want = "SEED: shared text, from the app";
        core_shows(&core, want).await?;
        let (mut check, _) = Seed::connect(&url).await?;
        check.sees(want).await?;
        check.client.disconnect().await;

        core.shutdown().await;
        hub.shutdown().await?;
        anyhow::Ok(())
    })
    .await?
}

/// A window typing `typed` one character at a time, each write sent
/// without waiting for the last (as the webview does), based on its own
/// previous write: it never takes the texts the core sends it, so every
/// write after a remote change or a cut relies on the core's merge.
async fn type_fast(
    core: std::sync::Arc<Core>,
    typed: &str,
    window: impl Fn(&str) -> String,
) -> anyhow::Result<()> {
    let mut so_far = String::new();
    let mut writes = Vec::new();
    for c in typed.chars() {
        let before = window(&so_far);
        so_far.push(c);
        let core = core.clone();
        let after = window(&so_far);
        writes.push(tokio::spawn(async move {
            core.send_text(after, Some(before)).await
        }));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    for write in writes {
        write.await?;
    }
    Ok(())
}

#[tokio::test]
async fn two_windows_typing_fast_across_cuts_keep_every_keystroke_once_in_order()
-> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(90), async {
        let data = tempfile::tempdir()?;
        let hub = start_hub_cutting_every(([127, 0, 0, 1], 0).into(), data.path(), 5).await?;
        let url = hub.url();
        let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let a = common::core_on(dir_a.path(), &url).await?;
        let b = common::core_on(dir_b.path(), &url).await?;
        common::wait_connected(&a).await?;
        common::wait_connected(&b).await?;
        let start = "[middle]";
        a.send_text(start.into(), Some(String::new())).await;
        core_shows(&b, start).await?;
        let (_, welcome) = Seed::connect(&url).await?;
        let first_epoch = welcome["text_epoch"].clone();

        let typed_a = " one two three four five six seven eight nine ten";
        let typed_b = "ant bee cat dog eel fox gnu hen ibis jay kit ";
        let (ra, rb) = tokio::join!(
            type_fast(a.clone(), typed_a, |t| format!("{start}{t}")),
            type_fast(b.clone(), typed_b, |t| format!("{t}{start}")),
        );
        ra?;
        rb?;
        let want = format!("{typed_b}{start}{typed_a}");
        core_shows(&a, &want).await?;
        core_shows(&b, &want).await?;
        let (mut check, welcome) = Seed::connect(&url).await?;
        check.sees(&want).await?;
        check.client.disconnect().await;
        assert_ne!(
            welcome["text_epoch"], first_epoch,
            "the hub cut while they typed"
        );

        a.shutdown().await;
        b.shutdown().await;
        hub.shutdown().await?;
        anyhow::Ok(())
    })
    .await?
}
