//! What every wrapper around a connection's byte stream needs (the `:authority` rewriter,
//! keepalive's watch, the trace tap): reads that report the bytes they brought, and the
//! `AsyncWrite` methods that only pass the call on.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Reads from `io` into `buf`; ready with the bytes this read added (empty at the end of the
/// stream).
pub(crate) fn read_more<'b, IO: AsyncRead + Unpin>(
    io: &mut IO,
    cx: &mut Context<'_>,
    buf: &'b mut ReadBuf<'_>,
) -> Poll<io::Result<&'b [u8]>> {
    let before = buf.filled().len();
    ready!(Pin::new(io).poll_read(cx, buf))?;
    Poll::Ready(Ok(&buf.filled()[before..]))
}

/// Inside an `impl AsyncWrite for Wrapper<IO>`, writes the methods named, each passing the
/// call on to the field `io`; with `guard`, after `guard(&wrapper)` (an
/// `Option<io::Error>`) found no error to return instead.
///
/// ```ignore
/// impl<IO: AsyncWrite + Unpin> AsyncWrite for Wrapper<IO> {
///     forward_write!(io, guard Self::error; poll_write, poll_flush, poll_shutdown);
///     fn poll_write_vectored(..) { .. } // the wrapper's own
/// }
/// ```
macro_rules! forward_write {
    ($io:ident, guard $guard:path; $($method:ident),* $(,)?) => {
        $( $crate::h2wire::forward_write!(@ $method $io [$guard]); )*
    };
    ($io:ident; $($method:ident),* $(,)?) => {
        $( $crate::h2wire::forward_write!(@ $method $io []); )*
    };
    (@ poll_write $io:ident $guard:tt) => {
        $crate::h2wire::forward_write!(@fn poll_write(buf: &[u8]) -> usize, $io $guard);
    };
    (@ poll_write_vectored $io:ident $guard:tt) => {
        $crate::h2wire::forward_write!(
            @fn poll_write_vectored(bufs: &[::std::io::IoSlice<'_>]) -> usize, $io $guard
        );
    };
    (@ poll_flush $io:ident $guard:tt) => {
        $crate::h2wire::forward_write!(@fn poll_flush() -> (), $io $guard);
    };
    (@ poll_shutdown $io:ident $guard:tt) => {
        $crate::h2wire::forward_write!(@fn poll_shutdown() -> (), $io $guard);
    };
    (@ is_write_vectored $io:ident $guard:tt) => {
        fn is_write_vectored(&self) -> bool {
            self.$io.is_write_vectored()
        }
    };
    (@fn $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty, $io:ident [$($guard:path)?]) => {
        fn $method(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            $($arg: $ty),*
        ) -> ::std::task::Poll<::std::io::Result<$ret>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            ::std::pin::Pin::new(&mut self.get_mut().$io).$method(cx, $($arg),*)
        }
    };
}
pub(crate) use forward_write;

/// Inside an `impl AsyncRead for Wrapper<IO>`, writes `poll_read`: it reads from the field
/// `io` and hands the bytes read (none at the end of the stream) to `seen(&mut wrapper,
/// bytes)`; with `guard`, only after `guard(&wrapper)` found no error to return instead.
macro_rules! watch_reads {
    ($io:ident, $(guard $guard:path,)? seen $seen:path) => {
        fn poll_read(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut ::tokio::io::ReadBuf<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            let this = self.get_mut();
            let read = ::std::task::ready!($crate::h2wire::read_more(&mut this.$io, cx, buf))?;
            $seen(this, read);
            ::std::task::Poll::Ready(Ok(()))
        }
    };
}
pub(crate) use watch_reads;
