//! The Tauri commands through Tauri's IPC on the mock runtime
//! (`tauri::test`), forwarded over the real local socket to a core (in this
//! process) connected to a real in-process hub: what the webview gets back,
//! the events it is told, and that bad input is refused with a message.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use pushdesk_desktop::commands;
use pushdesk_desktop_core::client::{Attach, CoreClient, FromCore};
use pushdesk_desktop_core::core::{Core, Overrides, Snapshot, Views};
use pushdesk_desktop_core::ipc::ToView;
use pushdesk_desktop_core::service::Service;
use serde_json::{Value, json};
use tauri::Manager as _;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

/// Sends the core's events to the attached window, as `pushdesk-tray` does.
struct WindowViews(Arc<OnceLock<Arc<Service>>>);

impl Views for WindowViews {
    fn emit(&self, event: &str, payload: Value) {
        if let Some(service) = self.0.get() {
            service.send(ToView::Event {
                name: event.to_owned(),
                payload,
            });
        }
    }
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

fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    invoke_from(webview, "tauri://localhost", cmd, args)
}

/// An IPC call as a page at `origin` would make it.
fn invoke_from(
    webview: &tauri::WebviewWindow<MockRuntime>,
    origin: &str,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: origin.parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answer_the_webview_against_a_real_hub() -> anyhow::Result<()> {
    let hub_dir = tempfile::tempdir()?;
    let hub = pushdesk_hub::start(pushdesk_hub::HubConfig::new(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        hub_dir.path().to_owned(),
    ))
    .await?;
    let data_dir = tempfile::tempdir()?;
    let service = Service::bind(data_dir.path()).await?;
    let slot = Arc::new(OnceLock::new());
    let _ = slot.set(service.clone());
    let core = Core::open(
        data_dir.path().to_owned(),
        Overrides {
            server: Some(hub.url()),
            token: None,
        },
        Box::new(WindowViews(slot)),
        "Pushdesk",
    )
    .await?;
    service.run(core.clone())?;
    core.connect().await?;
    let Attach::Attached(client, mut events) = CoreClient::connect(data_dir.path()).await? else {
        bail!("the first window must attach");
    };

    let app = mock_builder()
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .context("mock app")?;
    app.manage(Arc::new(client));
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .context("mock webview")?;

    // hub_state: connected, one user (us), the hub's URL.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = invoke(&webview, "hub_state", json!({})).map_err(|e| anyhow::anyhow!("{e}"))?;
        if state["status"]["state"] == "connected" && state["count"] == 1 {
            assert_eq!(state["server"], hub.url());
            break;
        }
        if Instant::now() > deadline {
            bail!("never connected: {state}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // send_text: acked by the hub, kept for a re-created window.
    let sent = tokio::task::block_in_place(|| {
        invoke(&webview, "send_text", json!({"text": "共有テキスト"}))
    });
    assert_eq!(sent, Ok(json!({"status": "accepted"})));
    let state = invoke(&webview, "hub_state", json!({})).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(state["text"], "共有テキスト");

    // send_notification: the hub's id comes back; the notification lands
    // in the history (no notifier here: kept with the error) and the
    // webview was told.
    let sent = tokio::task::block_in_place(|| {
        invoke(
            &webview,
            "send_notification",
            json!({"draft": {"title": "Hi", "body": "", "tag": "t", "url": ""}}),
        )
    });
    assert_eq!(sent, Ok(json!({"status": "accepted", "id": "1"})));
    let deadline = Instant::now() + Duration::from_secs(10);
    let history = loop {
        let h = invoke(&webview, "history", json!({"limit": 10}))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if h.as_array().is_some_and(|a| !a.is_empty()) {
            break h;
        }
        if Instant::now() > deadline {
            bail!("history stayed empty");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(history[0]["title"], "Hi");
    assert_eq!(history[0]["id"], 1);
    assert!(
        history[0]["delivery"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    // The window hears of it once the show was tried (after the history row).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(FromCore::Event { name, payload }))
                if name == "hub://notification" && payload["title"] == "Hi" =>
            {
                break;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => bail!("the window was not told"),
        }
    }

    // save_settings: a bad URL is refused with a reason, nothing saved.
    let refused = tokio::task::block_in_place(|| {
        invoke(
            &webview,
            "save_settings",
            json!({"settings": {"server": "file:///etc/passwd"}}),
        )
    });
    let err = refused.expect_err("a file: URL must be refused");
    assert!(
        err.as_str()
            .is_some_and(|e| e.contains("file:///etc/passwd")),
        "{err}"
    );
    assert!(!data_dir.path().join("settings.json").exists());

    // set_dnd and get_settings round trip, saved to disk.
    invoke(&webview, "set_dnd", json!({"on": true})).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings =
        invoke(&webview, "get_settings", json!({})).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(settings["doNotDisturb"], true);
    assert!(
        std::fs::read_to_string(data_dir.path().join("settings.json"))?
            .contains("\"doNotDisturb\": true")
    );

    // The capabilities grant these commands to the app's own pages only.
    let remote = invoke_from(
        &webview,
        "https://evil.example",
        "history",
        json!({"limit": 1}),
    );
    assert!(
        remote.is_err(),
        "a remote page must not reach the commands: {remote:?}"
    );

    service.stop();
    core.shutdown().await;
    hub.shutdown().await?;
    Ok(())
}
