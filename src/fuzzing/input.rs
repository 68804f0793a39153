//! Reading a fuzz input: a cursor over bytes that never fails, and the trait typed inputs share.

/// A typed fuzz input read from raw bytes. Total: every byte string is some input, so a
/// corpus file means the same under libFuzzer and in the stable replay test.
pub trait FuzzInput: Sized {
    /// The input the bytes describe.
    fn from_bytes(bytes: &[u8]) -> Self;
}

/// Reads numbers and slices off the front of the input; once it is exhausted every read
/// returns zero or an empty slice.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Up to `n` bytes (fewer when the input runs out).
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = tail;
        head
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        self.take(self.rest.len())
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    pub(crate) fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    pub(crate) fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }

    /// A slice whose length is given by the next byte.
    pub(crate) fn bytes8(&mut self) -> &'a [u8] {
        let n = self.u8();
        self.take(usize::from(n))
    }

    /// A slice whose length is given by the next two bytes (big-endian).
    pub(crate) fn bytes16(&mut self) -> &'a [u8] {
        let n = self.u16();
        self.take(usize::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_reads_big_endian_then_zeros_once_exhausted() {
        let mut c = Cursor::new(&[1, 2, 3, 4, 5]);
        assert_eq!(c.u16(), 0x0102);
        assert_eq!(c.u32(), 0x0304_0500);
        assert!(c.is_empty());
        assert_eq!((c.u8(), c.u64(), c.bytes16()), (0, 0, &[][..]));
    }

    #[test]
    fn cursor_length_prefixed_slices_stop_at_the_end() {
        let mut c = Cursor::new(&[3, b'a', b'b']);
        assert_eq!(c.bytes8(), b"ab");
        assert_eq!(c.rest(), b"");
    }
}
