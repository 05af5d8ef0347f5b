//! TLS: `https://`/`wss://` hubs with a certificate from a private CA
//! (trusted with a custom CA), and self-signed certificates (refused by
//! default, accepted only on explicit opt-in). Certificates are made by
//! rcgen for each run; the server is the Node peer over HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::*;
use pushdesk_e2e::{NodeOptions, NodePeer, Pki};
use pushdesk_socketio::{
    ClientBuilder, ConnectionState, DisconnectReason, ReconnectPolicy, TransportKind,
    TransportMode, json,
};

async fn tls_server(pki: &Pki) -> NodePeer {
    NodePeer::start(NodeOptions {
        tls: Some((pki.cert.clone(), pki.key.clone())),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn private_ca_is_trusted_when_given() {
    bounded(async {
        let pki = Pki::generate().unwrap();
        let server = tls_server(&pki).await;
        assert!(server.url().starts_with("https://"));
        for (mode, kind) in [
            (TransportMode::WebSocket, TransportKind::WebSocket),
            (TransportMode::Polling, TransportKind::Polling),
        ] {
            let (client, s, mut e) = ClientBuilder::new(server.url())
                .transport(mode)
                .add_root_certificate_pem(pki.ca_pem.clone())
                .connect()
                .unwrap();
            connected(&mut e).await;
            assert_eq!(
                client.state(),
                ConnectionState::Connected { transport: kind }
            );
            let reply = s
                .emit_with_ack("echo", json!("over tls"), WAIT)
                .await
                .unwrap();
            assert_eq!(reply.first(), Some(&json!("over tls")));
            client.disconnect().await;
        }
    })
    .await;
}

#[tokio::test]
async fn untrusted_certificate_is_refused_unless_opted_in() {
    bounded(async {
        let pki = Pki::generate().unwrap();
        let server = tls_server(&pki).await;
        // No CA given: the handshake must fail, and say why.
        let (client, _s, _e) = ClientBuilder::new(server.url())
            .reconnect(ReconnectPolicy::disabled())
            .connect()
            .unwrap();
        let state = state_where(&client, |s| {
            matches!(s, ConnectionState::Disconnected { .. })
        })
        .await;
        match state {
            ConnectionState::Disconnected {
                reason: DisconnectReason::ReconnectFailed(error),
            } => {
                assert!(error.to_lowercase().contains("certificate"), "{error}");
            }
            other => panic!("expected a TLS failure, got {other:?}"),
        }
        // Explicit opt-in: accepted.
        let (client, s, mut e) = ClientBuilder::new(server.url())
            .danger_accept_invalid_certs(true)
            .connect()
            .unwrap();
        connected(&mut e).await;
        assert!(s.emit_with_ack("echo", json!(1), WAIT).await.is_ok());
        client.disconnect().await;
    })
    .await;
}
