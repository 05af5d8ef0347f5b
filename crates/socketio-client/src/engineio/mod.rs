//! Engine.IO v4: the packet codec ([`packet`]) and the handshake ([`handshake`]).
//! Pure: no I/O lives here.

pub mod handshake;
pub mod packet;

pub use handshake::Handshake;
pub use packet::{Frame, Packet, PacketType};
