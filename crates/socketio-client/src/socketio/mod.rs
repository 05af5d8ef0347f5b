//! Socket.IO v5: the packet codec ([`packet`]), the binary-attachment
//! reassembly ([`decoder`]) and the placeholder helpers ([`binary`]).
//! Pure: no I/O lives here.

pub mod binary;
pub mod decoder;
pub mod packet;

pub use binary::{is_placeholder, placeholder};
pub use decoder::Decoder;
pub use packet::{Packet, PacketType};
