//! Fuzzes every decoder with arbitrary input: Engine.IO frames and polling
//! payloads, Socket.IO packets, and the binary reassembly state machine.
//! Nothing may panic; whatever decodes must re-encode and decode the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushdesk_socketio::engineio;
use pushdesk_socketio::socketio::{Decoder, Packet};
use pushdesk_socketio::Bytes;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let _ = engineio::Packet::decode_text(&text);
    let _ = engineio::packet::decode_payload(&text);
    if let Ok((packet, 0)) = Packet::decode(&text) {
        let again = Packet::decode(&packet.encode()).expect("re-encoded packet decodes");
        assert_eq!(again.0, packet);
    }
    // Interleave text and binary frames as a hostile server might.
    let mut decoder = Decoder::new();
    for (i, chunk) in rest.split(|&b| b == 0x1e).enumerate() {
        if (selector >> (i % 8)) & 1 == 0 {
            let _ = decoder.feed_text(&String::from_utf8_lossy(chunk));
        } else {
            let _ = decoder.feed_binary(Bytes::copy_from_slice(chunk));
        }
    }
});
