//! Bounded memory against a hostile server: a raw Engine.IO server floods
//! events the application does not read, floods events before answering
//! the namespace's CONNECT, or sends one packet with far more binary
//! attachment bytes than allowed. Each time the client hangs up with an
//! error naming the limit, instead of holding whatever it is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::*;
use pushdesk_e2e::{HostileServer, Misbehaviour, Outcome};
use pushdesk_socketio::{
    ClientBuilder, ConnectionState, DisconnectReason, ReconnectPolicy, SocketEvent, TransportMode,
};

const LIMIT: usize = 256 * 1024;
const EVENT: usize = 4096;

fn client(server: &HostileServer) -> ClientBuilder {
    ClientBuilder::new(server.url())
        .transport(TransportMode::WebSocket)
        .reconnect(ReconnectPolicy::disabled())
}

/// Why the client stopped, from its state.
fn stopped_because(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Disconnected { reason } => reason.to_string(),
        other => panic!("the client should have stopped: {other:?}"),
    }
}

#[tokio::test]
async fn events_the_application_does_not_take_are_bounded() {
    bounded(async {
        let server = HostileServer::start(Misbehaviour::FloodAfterConnect {
            events: 2000,
            size: EVENT,
        })
        .await
        .unwrap();
        let (c, _s, mut e) = client(&server).max_queued_bytes(LIMIT).connect().unwrap();
        // The application reads nothing while ~8 MiB arrive.
        server.wait_for_hang_up(WAIT).await.unwrap();

        connected(&mut e).await;
        let mut floods = 0usize;
        let reason = loop {
            match next(&mut e).await {
                SocketEvent::Event(ev) if ev.name == "flood" => floods += 1,
                SocketEvent::Disconnected(reason) => break reason,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert!(
            floods * EVENT <= LIMIT,
            "{floods} events held, over the limit"
        );
        assert!(floods > 0, "what fits is delivered");
        match &reason {
            DisconnectReason::TransportError(why) => {
                assert!(
                    why.contains("max_queued_bytes"),
                    "the error names the limit: {why}"
                );
            }
            other => panic!("expected a transport error naming the limit, got {other:?}"),
        }
        c.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn events_before_the_namespace_connects_are_bounded() {
    bounded(async {
        let server = HostileServer::start(Misbehaviour::FloodBeforeConnect {
            events: 2000,
            size: EVENT,
        })
        .await
        .unwrap();
        let (c, _s, mut e) = client(&server).max_queued_bytes(LIMIT).connect().unwrap();
        server.wait_for_hang_up(WAIT).await.unwrap();
        let mut floods = 0usize;
        while let Some(ev) = tokio::time::timeout(WAIT, e.next())
            .await
            .expect("the client stops in time")
        {
            match ev {
                SocketEvent::Event(ev) if ev.name == "flood" => floods += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            floods * EVENT <= LIMIT,
            "{floods} early events held, over the limit"
        );
        let why = stopped_because(&c.state());
        assert!(
            why.contains("before answering its CONNECT"),
            "the error says what happened: {why}"
        );
    })
    .await;
}

#[tokio::test]
async fn one_packets_binary_attachments_are_bounded() {
    bounded(async {
        let server = HostileServer::start(Misbehaviour::HugeAttachments {
            count: 64,
            size: 64 * 1024,
        })
        .await
        .unwrap();
        let (c, _s, mut e) = client(&server).max_message_size(LIMIT).connect().unwrap();
        server.wait_for_hang_up(WAIT).await.unwrap();
        connected(&mut e).await;
        match next(&mut e).await {
            SocketEvent::Disconnected(DisconnectReason::TransportError(why)) => {
                assert!(
                    why.contains("attachments"),
                    "the error says what happened: {why}"
                );
            }
            other => panic!("no 4 MiB packet may be delivered: {other:?}"),
        }
        let why = stopped_because(&c.state());
        assert!(why.contains("attachments"), "{why}");
    })
    .await;
}

/// Dropping a namespace's `Events` means nobody wants them: the client
/// neither counts them against the limit nor hangs up over them.
#[tokio::test]
async fn events_nobody_takes_any_more_do_not_count() {
    bounded(async {
        let server = HostileServer::start(Misbehaviour::FloodAfterConnect {
            events: 2000,
            size: EVENT,
        })
        .await
        .unwrap();
        let (c, _s, e) = client(&server).max_queued_bytes(LIMIT).connect().unwrap();
        drop(e);
        assert_eq!(
            server.wait_for_outcome(WAIT).await.unwrap(),
            Outcome::CaughtUp
        );
        assert!(
            matches!(c.state(), ConnectionState::Connected { .. }),
            "{:?}",
            c.state()
        );
        c.disconnect().await;
    })
    .await;
}
