//! The core's local service with a real [`Core`] and real loopback
//! sockets: only a window that knows the secret gets in, one window at a
//! time (a second one hands over to the first, which is told to show
//! itself), calls reach the core, and the address file is private.

mod common;

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use pushdesk_desktop_core::client::{Attach, CoreClient, FromCore};
use pushdesk_desktop_core::core::{Core, Overrides};
use pushdesk_desktop_core::ipc::Request;
use pushdesk_desktop_core::paths;
use pushdesk_desktop_core::service::Service;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use common::NoViews;

async fn core_with_service(dir: &std::path::Path) -> anyhow::Result<(Arc<Core>, Arc<Service>)> {
    let service = Service::bind(dir).await?;
    let core = Core::open(
        dir.to_owned(),
        // Nothing listens there: the core keeps trying, which these tests ignore.
        Overrides {
            server: Some("http://127.0.0.1:9".into()),
            token: None,
        },
        Box::new(NoViews),
        "Pushdesk",
    )
    .await?;
    service.run(core.clone())?;
    Ok((core, service))
}

#[tokio::test]
async fn one_window_at_a_time_and_a_second_one_hands_over() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (core, service) = core_with_service(dir.path()).await?;

    let Attach::Attached(first, mut first_events) = CoreClient::connect(dir.path()).await? else {
        bail!("the first window must attach");
    };
    // The service has registered the window once its call is answered.
    first
        .call(Request::GetSettings)
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(service.attached());

    // A second window is told to exit; the first is told to come forward.
    assert!(matches!(
        CoreClient::connect(dir.path()).await?,
        Attach::HandedOver
    ));
    let shown = tokio::time::timeout(Duration::from_secs(5), first_events.recv()).await?;
    assert_eq!(shown, Some(FromCore::Show));

    // Making sure the core runs (`--hidden`) leaves the open window alone:
    // no Show is queued before the answer to a later call.
    CoreClient::ensure_running(dir.path(), &[], None).await?;
    first
        .call(Request::GetSettings)
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(
        first_events.try_recv().is_err(),
        "an open window was brought forward"
    );
    assert!(service.attached());

    // Calls reach the core: Do Not Disturb is saved.
    first
        .call(Request::SetDnd { on: true })
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(core.settings().do_not_disturb);
    let settings = first
        .call(Request::GetSettings)
        .await
        .map_err(anyhow::Error::msg)?;
    assert_eq!(settings["doNotDisturb"], true);

    // Focus follows the window; once it is gone, another may attach.
    first.focused(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !service.focused() {
        if tokio::time::Instant::now() > deadline {
            bail!("focus never reached the core");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(first);
    drop(first_events);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while service.attached() {
        if tokio::time::Instant::now() > deadline {
            bail!("the closed window stayed attached");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!service.focused());
    assert!(matches!(
        CoreClient::connect(dir.path()).await?,
        Attach::Attached(..)
    ));
    service.stop();
    core.shutdown().await;
    assert!(!paths::address_file(dir.path()).exists());
    Ok(())
}

#[tokio::test]
async fn a_wrong_secret_gets_nothing_and_the_address_file_is_private() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (core, service) = core_with_service(dir.path()).await?;
    let file = paths::address_file(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file)?.permissions().mode() & 0o777,
            0o600
        );
    }
    let address: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let port = u16::try_from(address["port"].as_u64().unwrap_or(0))?;

    for hello in [
        "{\"type\":\"hello\",\"secret\":\"guess\"}\n",
        "{\"type\":\"call\",\"id\":1,\"request\":{\"method\":\"get_settings\"}}\n",
        "not json\n",
    ] {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(hello.as_bytes()).await?;
        let mut reply = String::new();
        let n = tokio::time::timeout(
            Duration::from_secs(5),
            BufReader::new(&mut stream).read_line(&mut reply),
        )
        .await??;
        assert_eq!(n, 0, "{hello:?} got an answer: {reply:?}");
    }
    assert!(!service.attached());
    service.stop();
    core.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_damaged_history_does_not_stop_the_core_and_the_user_is_told_once() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("history.sqlite3"),
        b"this is not a database, at all",
    )?;
    let (core, _service) = core_with_service(dir.path()).await?;
    let warnings = core.snapshot(false).warnings;
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("history was damaged"))
            .count(),
        1,
        "{warnings:?}"
    );
    core.shutdown().await;
    Ok(())
}
