//! Property tests for the pure codecs: every packet survives a round trip,
//! and no input, however malformed, makes a decoder panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use proptest::prelude::*;
use pushdesk_socketio::engineio::{self, Frame};
use pushdesk_socketio::socketio::{Decoder, Packet, PacketType};
use pushdesk_socketio::{Bytes, Value, placeholder};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(|f| Value::from((f * 1000.0).round() / 1000.0)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-z0-9_-]{1,10}".prop_map(|s| s)]
}

fn attachments() -> impl Strategy<Value = Vec<Bytes>> {
    prop::collection::vec(
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Bytes::from),
        0..4,
    )
}

fn packet() -> impl Strategy<Value = Packet> {
    let event = (
        namespace(),
        "[^\u{0}]{1,10}",
        prop::collection::vec(json_value(), 0..4),
        attachments(),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(nsp, name, mut args, bins, id)| {
            for i in 0..bins.len() {
                args.push(placeholder(i));
            }
            Packet::event(&nsp, &name, args, bins, id)
        });
    let ack = (
        namespace(),
        any::<u64>(),
        prop::collection::vec(json_value(), 0..4),
        attachments(),
    )
        .prop_map(|(nsp, id, mut args, bins)| {
            for i in 0..bins.len() {
                args.push(placeholder(i));
            }
            Packet::ack(&nsp, id, args, bins)
        });
    let connect = (
        namespace(),
        prop::option::of(prop::collection::vec((".{0,6}", json_value()), 0..3)),
    )
        .prop_map(|(nsp, auth)| {
            Packet::connect(&nsp, auth.map(|kv| Value::Object(kv.into_iter().collect())))
        });
    let disconnect = namespace().prop_map(|nsp| Packet::disconnect(&nsp));
    let connect_error = (
        namespace(),
        prop_oneof![
            ".{0,10}".prop_map(Value::String),
            Just(serde_json::json!({"message": "no"}))
        ],
    )
        .prop_map(|(nsp, data)| {
            let mut p = Packet::connect(&nsp, None);
            p.kind = PacketType::ConnectError;
            p.data = Some(data);
            p
        });
    prop_oneof![event, ack, connect, disconnect, connect_error]
}

/// Feeds a packet's frames through a decoder, as a transport would.
fn through_decoder(p: &Packet) -> Packet {
    let mut d = Decoder::new();
    let mut out = d.feed_text(&p.encode()).expect("text decodes");
    for bin in &p.attachments {
        assert!(out.is_none(), "complete before its attachments");
        out = d.feed_binary(bin.clone()).expect("attachment decodes");
    }
    out.expect("complete after the attachments")
}

proptest! {
    #[test]
    fn socketio_round_trip(p in packet()) {
        prop_assert_eq!(through_decoder(&p), p);
    }

    #[test]
    fn engineio_payload_round_trip(texts in prop::collection::vec("[^\u{1e}]{0,20}", 0..5), bins in attachments()) {
        let mut packets: Vec<engineio::Packet> = texts.into_iter().map(engineio::Packet::message).collect();
        packets.extend(bins.into_iter().map(engineio::Packet::Binary));
        prop_assume!(!packets.is_empty());
        let body = engineio::packet::encode_payload(&packets);
        prop_assert_eq!(engineio::packet::decode_payload(&body).unwrap(), packets.clone());
        for p in &packets {
            let back = match p.encode() {
                Frame::Text(t) => engineio::Packet::decode_text(&t).unwrap(),
                Frame::Binary(b) => engineio::Packet::decode_binary(b),
            };
            prop_assert_eq!(&back, p);
        }
    }

    #[test]
    fn decoders_never_panic(text in ".{0,64}", raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Packet::decode(&text);
        let _ = engineio::Packet::decode_text(&text);
        let _ = engineio::packet::decode_payload(&text);
        let mut d = Decoder::new();
        let _ = d.feed_text(&text);
        let _ = d.feed_binary(Bytes::from(raw));
    }

    #[test]
    fn mutated_packets_never_panic(p in packet(), cut in 0usize..64, insert in ".{0,3}") {
        let text = p.encode();
        let mut idx = cut.min(text.len());
        while !text.is_char_boundary(idx) { idx -= 1; }
        let mutated = format!("{}{}{}", &text[..idx], insert, &text[idx..]);
        let _ = Packet::decode(&mutated);
        let truncated = &text[..idx];
        let _ = Packet::decode(truncated);
    }
}

/// A corpus of malformed packets seen in the wild or built to hit each branch.
#[test]
fn malformed_corpus_is_rejected_with_typed_errors() {
    let corpus = [
        "",
        "7",
        "-",
        "/",
        "2/",
        "2/nsp",
        "2/nsp,",
        "21",
        "2abc",
        "2\"x\"",
        "2null",
        "2[null]",
        "2[[]]",
        "2[true]",
        "3",
        "31",
        "3/a,1{}",
        "1{}",
        "1/a,[]",
        "0\"str\"",
        "0[1]",
        "4",
        "4/a,",
        "4/a,5",
        "5",
        "51",
        "51-",
        "5a-[\"x\"]",
        "51-2[\"x\"",
        "52-[\"x\",{\"_placeholder\":true,\"num\":2}]",
        "61-3{\"_placeholder\":true,\"num\":0}",
        "2[\"x\"]]",
        "2[\"x\",]",
        "2{\"a\":1}",
        "218446744073709551616[\"x\"]",
        "51025-[\"x\"]",
    ];
    for bad in corpus {
        assert!(Packet::decode(bad).is_err(), "{bad:?} must be rejected");
    }
}

/// Found by the fuzzer: a number that serde_json's fast float parser read
/// one ULP off, so a packet changed when decoded and re-encoded. Relayed
/// values must come out as they went in.
#[test]
fn large_floats_survive_a_round_trip() {
    let text = "0{\"m\":2000999999999999999999999999999999999999999999999999990}";
    let (p, _) = Packet::decode(text).unwrap();
    let (again, _) = Packet::decode(&p.encode()).unwrap();
    assert_eq!(again, p);
    let text = "2[\"n\",1.7976931348623157e308,5e-324,0.1,123456789.12345679]";
    let (p, _) = Packet::decode(text).unwrap();
    assert_eq!(Packet::decode(&p.encode()).unwrap().0, p);
}
