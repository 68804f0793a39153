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
        $( $crate::h2wire::forward_write!(@ $method $io, $guard); )*
    };
    ($io:ident; $($method:ident),* $(,)?) => {
        $( $crate::h2wire::forward_write!(@ $method $io); )*
    };
    (@ poll_write $io:ident $(, $guard:path)?) => {
        fn poll_write(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            ::std::pin::Pin::new(&mut self.get_mut().$io).poll_write(cx, buf)
        }
    };
    (@ poll_write_vectored $io:ident $(, $guard:path)?) => {
        fn poll_write_vectored(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            ::std::pin::Pin::new(&mut self.get_mut().$io).poll_write_vectored(cx, bufs)
        }
    };
    (@ is_write_vectored $io:ident $(, $guard:path)?) => {
        fn is_write_vectored(&self) -> bool {
            self.$io.is_write_vectored()
        }
    };
    (@ poll_flush $io:ident $(, $guard:path)?) => {
        fn poll_flush(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            ::std::pin::Pin::new(&mut self.get_mut().$io).poll_flush(cx)
        }
    };
    (@ poll_shutdown $io:ident $(, $guard:path)?) => {
        fn poll_shutdown(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $(if let Some(err) = $guard(&*self) { return ::std::task::Poll::Ready(Err(err)); })?
            ::std::pin::Pin::new(&mut self.get_mut().$io).poll_shutdown(cx)
        }
    };
}
pub(crate) use forward_write;
