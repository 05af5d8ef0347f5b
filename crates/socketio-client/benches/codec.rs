//! Codec throughput: encoding and decoding small event packets, the hot path
//! of every notification. Run: `cargo bench -p pushdesk-socketio --bench codec`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pushdesk_socketio::engineio;
use pushdesk_socketio::socketio::{Decoder, Packet};
use pushdesk_socketio::{Bytes, json, placeholder};

fn small_event() -> Packet {
    Packet::event(
        "/",
        "count_update",
        vec![json!({"user_count": 42})],
        vec![],
        None,
    )
}

fn notification() -> Packet {
    Packet::event(
        "/",
        "send_notification",
        vec![
            json!({"title": "Build finished", "body": "this is push notification.", "icon": "images/icon.png", "tag": "", "data1": 3, "id": 1234}),
        ],
        vec![],
        None,
    )
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("socketio");
    g.throughput(Throughput::Elements(1));
    let small = small_event();
    let small_text = small.encode();
    g.bench_function("encode small event", |b| {
        b.iter(|| black_box(&small).encode())
    });
    g.bench_function("decode small event", |b| {
        b.iter(|| Packet::decode(black_box(&small_text)))
    });
    g.bench_function("encode+decode small event", |b| {
        b.iter(|| {
            let text = black_box(&small).encode();
            Packet::decode(&text)
        })
    });
    let n = notification();
    let n_text = n.encode();
    g.bench_function("encode+decode notification", |b| {
        b.iter(|| {
            let text = black_box(&n).encode();
            Packet::decode(&text)
        })
    });
    g.bench_function("decode notification", |b| {
        b.iter(|| Packet::decode(black_box(&n_text)))
    });
    let bin = Packet::event(
        "/",
        "file",
        vec![placeholder(0)],
        vec![Bytes::from(vec![7u8; 1024])],
        None,
    );
    let bin_text = bin.encode();
    g.bench_function("decode binary event (1 KiB)", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let _ = d.feed_text(black_box(&bin_text));
            d.feed_binary(bin.attachments[0].clone())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("engineio");
    g.throughput(Throughput::Elements(1));
    let frame = format!("4{small_text}");
    g.bench_function("decode message frame", |b| {
        b.iter(|| engineio::Packet::decode_text(black_box(&frame)))
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
