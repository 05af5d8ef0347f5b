//! The window↔core handshake against impostors, over real loopback
//! sockets: a core that cannot prove it knows the secret (what answers on
//! a stale address file's port, or a local impostor) is refused and is
//! never told the secret or the window's proof; a window that cannot prove
//! it is refused by the real core; handshake lines are capped; a call the
//! core never answers times out.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use pushdesk_desktop_core::client::{Attach, ConnectError, CoreClient};
use pushdesk_desktop_core::core::{Core, Overrides};
use pushdesk_desktop_core::ipc::{self, Address, Request, Role, ToCore, ToView};
use pushdesk_desktop_core::paths;
use pushdesk_desktop_core::service::Service;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

use common::NoViews;

const WAIT: Duration = Duration::from_secs(15);

/// Writes `dir`'s address file pointing at `port` with `secret`.
fn address_file(dir: &Path, port: u16, secret: &str) -> anyhow::Result<()> {
    let address = Address {
        port,
        secret: secret.to_owned(),
        pid: std::process::id(),
    };
    std::fs::write(paths::address_file(dir), ipc::encode(&address))?;
    Ok(())
}

/// One line from `reader` within [`WAIT`]; empty at end of stream.
async fn line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> anyhow::Result<String> {
    let mut line = String::new();
    tokio::time::timeout(WAIT, reader.read_line(&mut line)).await??;
    Ok(line)
}

async fn send<T: serde::Serialize>(stream: &mut TcpStream, message: &T) -> anyhow::Result<()> {
    let mut text = ipc::encode(message);
    text.push('\n');
    stream.write_all(text.as_bytes()).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Impostor {
    /// Answers the hello with a welcome, as the core used to.
    WelcomesAtOnce,
    /// Answers with a challenge whose proof it could not make.
    BadProof,
    /// Answers nothing (whatever took a crashed core's port).
    Silent,
}

/// Accepts one connection, answers as `how`, and returns everything the
/// window sent until it hung up.
async fn impostor(listener: TcpListener, how: Impostor) -> anyhow::Result<String> {
    let (stream, _) = listener.accept().await?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut heard = line(&mut reader).await?;
    let answer = match how {
        Impostor::WelcomesAtOnce => Some(ipc::encode(&ToView::Welcome { attached: true })),
        Impostor::BadProof => Some(ipc::encode(&ToView::Challenge {
            nonce: ipc::new_nonce(),
            proof: "00".repeat(32),
        })),
        Impostor::Silent => None,
    };
    if let Some(answer) = answer {
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
    loop {
        let next = line(&mut reader).await?;
        if next.is_empty() {
            return Ok(heard);
        }
        heard.push_str(&next);
    }
}

#[tokio::test]
async fn a_core_that_cannot_prove_the_secret_is_refused_and_learns_nothing() -> anyhow::Result<()> {
    for how in [
        Impostor::WelcomesAtOnce,
        Impostor::BadProof,
        Impostor::Silent,
    ] {
        let dir = tempfile::tempdir()?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let secret = ipc::new_nonce();
        address_file(dir.path(), port, &secret)?;
        let fake = tokio::spawn(impostor(listener, how));

        match CoreClient::connect(dir.path()).await {
            Err(ConnectError::Impostor(p)) => assert_eq!(p, port),
            Err(e) => bail!("{how:?}: expected an impostor error, got {e}"),
            Ok(_) => bail!("{how:?}: the window attached to an impostor"),
        }
        let heard = tokio::time::timeout(WAIT, fake).await???;
        assert!(
            !heard.contains(&secret),
            "{how:?}: the impostor heard the secret: {heard}"
        );
        assert!(
            !heard.contains("proof"),
            "{how:?}: the impostor got a proof: {heard}"
        );
        assert!(
            heard.contains("\"nonce\""),
            "{how:?}: it heard only a hello: {heard}"
        );
    }
    Ok(())
}

async fn core_with_service(dir: &Path) -> anyhow::Result<(Arc<Core>, Arc<Service>)> {
    let service = Service::bind(dir).await?;
    let core = Core::open(
        dir.to_owned(),
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
async fn a_window_that_cannot_prove_the_secret_is_refused_and_handshake_lines_are_capped()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (core, service) = core_with_service(dir.path()).await?;
    let address: Address = ipc::decode(&std::fs::read_to_string(paths::address_file(dir.path()))?)?;

    // The core proves itself to anyone who says hello, then waits for a proof.
    let mut stream = TcpStream::connect(("127.0.0.1", address.port)).await?;
    let ours = ipc::new_nonce();
    send(
        &mut stream,
        &ToCore::Hello {
            nonce: ours.clone(),
            window: true,
        },
    )
    .await?;
    let mut reader = BufReader::new(stream);
    let challenge = line(&mut reader).await?;
    let ToView::Challenge { nonce, proof } = ipc::decode(&challenge)? else {
        bail!("expected a challenge, got {challenge}");
    };
    assert!(
        ipc::verify(&address.secret, Role::Core, &ours, &nonce, &proof),
        "the core's proof"
    );
    // A wrong proof: hung up on, nothing more said.
    let mut stream = reader.into_inner();
    send(
        &mut stream,
        &ToCore::Proof {
            proof: "ab".repeat(32),
        },
    )
    .await?;
    let mut reader = BufReader::new(stream);
    assert_eq!(line(&mut reader).await?, "", "a wrong proof got an answer");
    // Replaying the core's own proof as the window's does not work either.
    let mut stream = TcpStream::connect(("127.0.0.1", address.port)).await?;
    send(
        &mut stream,
        &ToCore::Hello {
            nonce: ours.clone(),
            window: true,
        },
    )
    .await?;
    let mut reader = BufReader::new(stream);
    let ToView::Challenge { proof, .. } = ipc::decode(&line(&mut reader).await?)? else {
        bail!("expected a challenge");
    };
    let mut stream = reader.into_inner();
    send(&mut stream, &ToCore::Proof { proof }).await?;
    let mut reader = BufReader::new(stream);
    assert_eq!(
        line(&mut reader).await?,
        "",
        "a reflected proof got an answer"
    );

    // A hello over the handshake's line cap gets no answer at all.
    let mut stream = TcpStream::connect(("127.0.0.1", address.port)).await?;
    let padded = format!(
        "{{\"type\":\"hello\",\"nonce\":\"{}\",\"window\":true,\"pad\":\"{}\"}}\n",
        ipc::new_nonce(),
        "x".repeat(8 * 1024)
    );
    stream.write_all(padded.as_bytes()).await?;
    let mut reader = BufReader::new(stream);
    let answer = line(&mut reader).await.unwrap_or_default();
    assert_eq!(answer, "", "a {} byte hello was answered", padded.len());
    assert!(!service.attached());

    // The real window gets in.
    let Attach::Attached(window, _events) = CoreClient::connect(dir.path()).await? else {
        bail!("the window must attach");
    };
    window
        .call(Request::GetSettings)
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(service.attached());
    service.stop();
    core.shutdown().await;
    Ok(())
}

/// A core that knows the secret and completes the handshake, then never
/// answers a call.
async fn mute_core(listener: TcpListener, secret: String) -> anyhow::Result<()> {
    let (stream, _) = listener.accept().await?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let ToCore::Hello { nonce: theirs, .. } = ipc::decode(&line(&mut reader).await?)? else {
        bail!("expected a hello");
    };
    let ours = ipc::new_nonce();
    let challenge = ToView::Challenge {
        proof: ipc::proof(&secret, Role::Core, &theirs, &ours),
        nonce: ours.clone(),
    };
    write
        .write_all(format!("{}\n", ipc::encode(&challenge)).as_bytes())
        .await?;
    let ToCore::Proof { proof } = ipc::decode(&line(&mut reader).await?)? else {
        bail!("expected a proof");
    };
    anyhow::ensure!(
        ipc::verify(&secret, Role::Window, &ours, &theirs, &proof),
        "the window's proof"
    );
    write
        .write_all(format!("{}\n", ipc::encode(&ToView::Welcome { attached: true })).as_bytes())
        .await?;
    // Read calls, answer none.
    while !line(&mut reader).await.unwrap_or_default().is_empty() {}
    Ok(())
}

#[tokio::test]
async fn a_call_the_core_never_answers_times_out() -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir()?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let secret = ipc::new_nonce();
        address_file(dir.path(), listener.local_addr()?.port(), &secret)?;
        let core = tokio::spawn(mute_core(listener, secret));
        let Attach::Attached(window, _events) = CoreClient::connect(dir.path()).await? else {
            bail!("the window must attach to a core that proves the secret");
        };
        let window = window.with_call_timeout(Duration::from_millis(300));
        let answer = window.call(Request::GetSettings).await;
        let why = answer.err().context("a call nobody answers must fail")?;
        assert!(why.contains("did not answer"), "{why}");
        drop(window);
        core.abort();
        Ok(())
    })
    .await?
}
