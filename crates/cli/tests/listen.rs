//! `pushdesk listen` as a user runs it: the real binary against the Node
//! reference server, reading its stdout line by line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::process::Stdio;
use std::time::Duration;

use pushdesk_e2e::{NodeOptions, NodePeer};
use pushdesk_socketio::{ClientBuilder, ReconnectPolicy, SocketEvent, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const WAIT: Duration = Duration::from_secs(15);

fn listen(args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
        .arg("listen")
        .arg("--no-notify") // native notifications: tests/listen_notify.rs
        .args(args)
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("pushdesk starts");
    let stdout = child.stdout.take().expect("stdout piped");
    (child, BufReader::new(stdout).lines())
}

/// The next stdout line as JSON; each must be exactly `{"event", "data"}`.
async fn next_json(lines: &mut Lines<BufReader<ChildStdout>>) -> (String, Value) {
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("a line in time")
        .expect("readable")
        .expect("not EOF");
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "exactly event and data: {line}");
    (
        obj["event"].as_str().expect("event is a string").to_owned(),
        obj["data"].clone(),
    )
}

async fn until_event(lines: &mut Lines<BufReader<ChildStdout>>, name: &str) -> Value {
    loop {
        let (event, data) = next_json(lines).await;
        if event == name {
            return data;
        }
    }
}

#[tokio::test]
async fn prints_one_json_object_per_line_and_survives_a_restart() {
    tokio::time::timeout(Duration::from_secs(90), async {
        let mut server = NodePeer::start(NodeOptions::default()).await.unwrap();
        let url = server.url();
        let (_child, mut lines) = listen(&["--server", &url, "--json"]);
        assert_eq!(
            until_event(&mut lines, "count_update").await,
            json!({"user_count": 1})
        );
        assert_eq!(
            until_event(&mut lines, "text_update").await,
            json!({"text": ""})
        );

        let (sender, s, mut e) = ClientBuilder::new(url.clone()).connect().unwrap();
        while !matches!(e.next().await, Some(SocketEvent::Connected { .. })) {}
        s.emit(
            "send_notification_request",
            json!({"text": "line\nbreak 日本", "num": 1}),
        )
        .unwrap();
        let data = until_event(&mut lines, "send_notification").await;
        assert_eq!(data["title"], json!("line\nbreak 日本"));
        sender.disconnect().await;

        // The hub goes away and comes back: the listener reconnects by itself.
        server.kill().await.unwrap();
        server.restart().await.unwrap();
        let policy = ReconnectPolicy {
            delay: Duration::from_millis(100),
            ..Default::default()
        };
        let (sender, s, mut e) = ClientBuilder::new(url.clone())
            .reconnect(policy)
            .connect()
            .unwrap();
        while !matches!(e.next().await, Some(SocketEvent::Connected { .. })) {}
        // Wait until the listener is back (its connect shows in the count), then send.
        loop {
            let data = until_event(&mut lines, "count_update").await;
            if data == json!({"user_count": 2}) {
                break;
            }
        }
        s.emit(
            "send_notification_request",
            json!({"text": "after restart", "num": 2}),
        )
        .unwrap();
        assert_eq!(
            until_event(&mut lines, "send_notification").await["title"],
            json!("after restart")
        );
        sender.disconnect().await;
    })
    .await
    .expect("test within 90 s");
}

#[tokio::test]
async fn count_exits_zero_after_that_many_notifications() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let server = NodePeer::start(NodeOptions::default()).await.unwrap();
        let url = server.url();
        let (mut child, mut lines) = listen(&["--server", &url, "--json", "--count", "3"]);
        assert_eq!(
            until_event(&mut lines, "count_update").await,
            json!({"user_count": 1})
        );
        let (sender, s, mut e) = ClientBuilder::new(url.clone()).connect().unwrap();
        while !matches!(e.next().await, Some(SocketEvent::Connected { .. })) {}
        for num in 1..=5 {
            s.emit(
                "send_notification_request",
                json!({"text": format!("n{num}"), "num": num}),
            )
            .unwrap();
        }
        let mut titles = Vec::new();
        while let Some(line) = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("a line or EOF in time")
            .expect("readable")
        {
            let v: Value = serde_json::from_str(&line).expect("one JSON object per line");
            if v["event"] == "send_notification" {
                titles.push(v["data"]["title"].clone());
            }
        }
        assert_eq!(titles, [json!("n1"), json!("n2"), json!("n3")]);
        let status = tokio::time::timeout(WAIT, child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{status}");
        sender.disconnect().await;
    })
    .await
    .expect("test within 60 s");
}

#[tokio::test]
async fn a_refused_connection_exits_non_zero_with_the_reason() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let server = NodePeer::start(NodeOptions::default()).await.unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
            .args([
                "listen",
                "--json",
                "--no-notify",
                "--token",
                "wrong",
                "--server",
                &format!("{}/secure", server.url()),
            ])
            .env_remove("PUSHDESK_SERVER")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refused the connection: not authorized"),
            "{stderr}"
        );
    })
    .await
    .expect("test within 60 s");
}

#[tokio::test]
async fn bad_arguments_get_a_clear_error_and_help_explains() {
    let out = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
        .args(["listen", "--server", "ftp://x"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("scheme must be http"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
        .args(["listen", "--help"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--server",
        "--token",
        "--json",
        "--count",
        "--transport",
        "--ca-cert",
        "--insecure",
        "PUSHDESK_SERVER",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}: {text}");
    }
    // Every command explains each of its flags.
    for (cmd, flags) in [
        (
            "serve",
            &[
                "--bind",
                "--data-dir",
                "--token",
                "--allow-origin",
                "--redis",
                "--tls-cert",
                "--tls-key",
                "--history-max",
                "--notify-rate",
            ][..],
        ),
        (
            "send",
            &[
                "--server",
                "--token",
                "--title",
                "--body",
                "--tag",
                "--icon",
                "--url",
                "--urgency",
                "--data",
                "PUSHDESK_TOKEN",
            ][..],
        ),
        ("listen", &["--since", "--no-notify"][..]),
        ("text", &["--server", "--set"][..]),
    ] {
        let help = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
            .args([cmd, "--help"])
            .output()
            .await
            .unwrap();
        assert!(help.status.success());
        let text = String::from_utf8_lossy(&help.stdout);
        for flag in flags {
            assert!(text.contains(flag), "`{cmd} --help` lacks {flag}: {text}");
        }
    }
    // `send` without a title is a usage error, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_pushdesk"))
        .args(["send"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--title"));
}
