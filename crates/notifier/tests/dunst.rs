//! The Linux backend against a real notification daemon: dunst on a
//! private D-Bus with its own Xvfb display (started by the test, see
//! `pushdesk_e2e::NotificationDaemon`), observed with `dunstctl` and acted
//! on with `dunstctl action` and `gdbus`.
#![cfg(all(unix, not(target_os = "macos")))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::PathBuf;
use std::time::Duration;

use pushdesk_e2e::{NotificationDaemon, TempDir};
use pushdesk_notifier::{
    Action, CloseReason, Error, NotificationSpec, Notifier, NotifierEvent, NotifierEvents, Urgency,
};

const WAIT: Duration = Duration::from_secs(10);

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test within 60 s");
}

async fn setup() -> (NotificationDaemon, Notifier, NotifierEvents) {
    let daemon = NotificationDaemon::start().await.expect("dunst starts");
    let (notifier, events) = Notifier::with_bus_address("Pushdesk test", daemon.bus_address())
        .await
        .expect("notifier connects");
    (daemon, notifier, events)
}

async fn next(events: &mut NotifierEvents) -> NotifierEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("an event in time")
        .expect("notifier running")
}

fn spec(key: u64, title: &str, tag: Option<&str>) -> NotificationSpec {
    let mut spec = NotificationSpec::new(key, title);
    spec.body = format!("body of {title}");
    spec.tag = tag.map(str::to_owned);
    spec
}

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

#[tokio::test]
async fn a_notification_arrives_with_title_body_icon_and_default_action() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        let dir = TempDir::new("notifier-icon").unwrap();
        let icon: PathBuf = dir.path().join("icon.png");
        std::fs::write(&icon, PNG).unwrap();
        let mut s = spec(1, "Deploy 日本語", None);
        s.body = "v1.2 <b>bold</b> & <img src=\"/etc/passwd\"/> it's".into();
        s.icon = Some(icon.clone());
        s.urgency = Urgency::Critical;
        notifier.show(&s).await.unwrap();
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 1 });
        daemon.wait_displayed(1, WAIT).await.unwrap();
        let shown = daemon.displayed().await.unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].summary, "Deploy 日本語");
        // dunst reads the body as Pango markup: it arrives escaped and is
        // rendered as the characters that were sent, with no markup.
        assert_eq!(
            shown[0].message,
            "<b>Deploy 日本語</b>\nv1.2 &lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=&quot;/etc/passwd&quot;/&gt; it&apos;s"
        );
        assert_eq!(shown[0].app_name, "Pushdesk test");
        assert_eq!(shown[0].icon_path, icon.display().to_string());
        assert_eq!(shown[0].default_action, "default");
    })
    .await;
}

#[tokio::test]
async fn the_same_tag_leaves_one_the_newer() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        notifier
            .show(&spec(1, "first", Some("deploy")))
            .await
            .unwrap();
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 1 });
        let id = notifier.xdg_id(1).expect("on screen");
        notifier
            .show(&spec(2, "second", Some("deploy")))
            .await
            .unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 1,
                reason: CloseReason::Replaced
            }
        );
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 2 });
        assert_eq!(notifier.xdg_id(2), Some(id), "replaced in place");
        assert_eq!(notifier.xdg_id(1), None);
        daemon.wait_displayed(1, WAIT).await.unwrap();
        let shown = daemon.displayed().await.unwrap();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert_eq!(shown[0].summary, "second");
        assert_eq!(shown[0].body, "body of second");
    })
    .await;
}

#[tokio::test]
async fn different_or_empty_tags_leave_two() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        let cases = [
            (spec(1, "a", Some("a")), spec(2, "b", Some("b"))),
            (spec(3, "same", Some("")), spec(4, "same", Some(""))),
            (spec(5, "none", None), spec(6, "none", None)),
        ];
        for (one, two) in &cases {
            notifier.show(one).await.unwrap();
            notifier.show(two).await.unwrap();
            assert_eq!(
                next(&mut events).await,
                NotifierEvent::Shown { key: one.key }
            );
            assert_eq!(
                next(&mut events).await,
                NotifierEvent::Shown { key: two.key }
            );
            daemon.wait_displayed(2, WAIT).await.unwrap();
            let shown = daemon.displayed().await.unwrap();
            let mut titles: Vec<_> = shown.iter().map(|n| n.summary.as_str()).collect();
            titles.sort();
            let mut want = vec![one.title.as_str(), two.title.as_str()];
            want.sort();
            assert_eq!(titles, want);
            // close-all reported both as dismissed.
            let mut closed = [next(&mut events).await, next(&mut events).await];
            closed.sort_by_key(NotifierEvent::key);
            for (event, key) in closed.iter().zip([one.key, two.key]) {
                assert!(
                    matches!(event, NotifierEvent::Closed { key: k, .. } if *k == key),
                    "{event:?}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_click_on_the_notification_is_clicked_with_its_key() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        notifier
            .show(&spec(7, "click me", Some("t")))
            .await
            .unwrap();
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 7 });
        daemon.wait_displayed(1, WAIT).await.unwrap();
        daemon.invoke_action(0).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Clicked {
                key: 7,
                action: "default".into()
            }
        );
        // After a replace the click belongs to the newer notification.
        notifier.show(&spec(8, "newer", Some("t"))).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 7,
                reason: CloseReason::Replaced
            }
        );
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 8 });
        daemon.wait_displayed(1, WAIT).await.unwrap();
        daemon.invoke_action(0).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Clicked {
                key: 8,
                action: "default".into()
            }
        );
    })
    .await;
}

#[tokio::test]
async fn a_button_press_is_clicked_with_the_buttons_id() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        let mut s = spec(1, "Deploy v2?", None);
        s.actions = vec![
            Action::new("approve", "Approve"),
            Action::new("reject", "Reject"),
        ];
        notifier.show(&s).await.unwrap();
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 1 });
        daemon.wait_displayed(1, WAIT).await.unwrap();
        daemon.press_button("reject").await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Clicked {
                key: 1,
                action: "reject".into()
            }
        );
    })
    .await;
}

#[tokio::test]
async fn closes_report_their_reason() {
    bounded(async {
        let (daemon, notifier, mut events) = setup().await;
        for key in 1..=3 {
            notifier
                .show(&spec(key, &format!("n{key}"), None))
                .await
                .unwrap();
            assert_eq!(next(&mut events).await, NotifierEvent::Shown { key });
        }
        // Another app closes ours by id.
        let id = notifier.xdg_id(1).expect("on screen");
        daemon.close_notification(id).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 1,
                reason: CloseReason::ClosedByCall
            }
        );
        // We close ours.
        notifier.close(2).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 2,
                reason: CloseReason::ClosedByCall
            }
        );
        notifier.close(2).await.unwrap(); // gone already: ignored
        notifier.close(999).await.unwrap(); // never shown: ignored
        // The user dismisses the last one.
        daemon.dunstctl(&["close"]).await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 3,
                reason: CloseReason::Dismissed
            }
        );
        daemon.wait_displayed(0, WAIT).await.unwrap();
        assert_eq!(notifier.xdg_id(3), None, "forgotten once closed");
    })
    .await;
}

#[tokio::test]
async fn without_a_daemon_new_and_show_fail_clearly() {
    bounded(async {
        let empty = NotificationDaemon::bus_only().await.unwrap();
        let err = Notifier::with_bus_address("t", empty.bus_address())
            .await
            .expect_err("no daemon on that bus");
        assert!(matches!(err, Error::NoDaemon(_)), "{err:?}");
        assert!(err.to_string().contains("no notification service"), "{err}");

        let err = Notifier::with_bus_address("t", "unix:path=/nonexistent/bus")
            .await
            .expect_err("no bus there");
        assert!(matches!(err, Error::Bus(_)), "{err:?}");

        // The daemon goes away under a running notifier.
        let (mut daemon, notifier, mut events) = setup().await;
        notifier
            .show(&spec(1, "on screen", Some("t")))
            .await
            .unwrap();
        assert_eq!(next(&mut events).await, NotifierEvent::Shown { key: 1 });
        daemon.kill_dunst().await.unwrap();
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Closed {
                key: 1,
                reason: CloseReason::Undefined
            }
        );
        let err = notifier
            .show(&spec(2, "nobody", Some("t")))
            .await
            .expect_err("no daemon");
        assert!(matches!(err, Error::NoDaemon(_)), "{err:?}");
        assert_eq!(
            next(&mut events).await,
            NotifierEvent::Error {
                key: 2,
                message: err.to_string()
            }
        );
    })
    .await;
}

#[tokio::test]
async fn dropping_the_notifier_ends_the_events() {
    bounded(async {
        let (_daemon, notifier, mut events) = setup().await;
        drop(notifier);
        assert_eq!(
            tokio::time::timeout(WAIT, events.recv())
                .await
                .expect("ends in time"),
            None
        );
    })
    .await;
}
