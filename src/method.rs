//! Method paths: the `/package.Service/Method` grammar, checked in one place for both sides, and
//! [`Method`], a typed handle on one method.
//!
//! PROTOCOL-HTTP2.md: `Path → ":path" "/" Service-Name "/" {method name}`. A server routes on
//! the whole path, case-sensitively, so a name that cannot be part of a path (an empty one, one
//! with a `/`, a space or a `?`) would only show up at run time as UNIMPLEMENTED. The server's
//! [`Service`](crate::Service) checks names when it is built, [`Method::new`] when the constant
//! is evaluated (at compile time), and a call by a path string when it is made.
//!
//! ```text
//! /echo.v1.Echo/Say     ok: service "echo.v1.Echo", method "Say"
//! echo.v1.Echo/Say      no leading '/'
//! /echo.v1.Echo/        empty method name
//! //Say                 empty service name
//! /echo..v1.Echo/Say    empty segment in the service name
//! /echo.v1.Echo/Say/x   a '/' in the method name
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::status::Status;

/// A typed handle on one method: its path, its request type and its response type.
///
/// Calls made with it infer every type from the handle, with no turbofish and no annotation:
/// the request is taken by value or by reference, the response is `Resp`. The path is checked
/// when the constant is evaluated, so a malformed one fails the build. Generated clients
/// declare one per method (`echo_client::SAY`) and call through them.
///
/// ```
/// use h2grpc::{CallOptions, Channel, Method, Server, Service};
///
/// const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// assert_eq!((SAY.service(), SAY.name()), ("echo.v1.Echo", "Say"));
/// let echo = Service::new(SAY.service()).unary(SAY, |_ctx, text| async move { Ok(text) });
/// let dir = tempfile::tempdir()?;
/// let socket = dir.path().join("echo.sock");
/// let server = Server::builder().add_service(echo).bind_unix(&socket)?;
/// let shutdown = server.shutdown_handle();
/// let serving = tokio::spawn(server.serve());
///
/// let channel = Channel::connect(&socket).await?;
/// let reply = channel.unary(SAY, "hi".to_string(), CallOptions::new()).await?;
/// assert_eq!(reply.into_inner(), "hi");
/// shutdown.shutdown();
/// serving.await??;
/// # Ok(()) }
/// ```
///
/// A malformed path does not compile:
///
/// ```compile_fail
/// const BAD: h2grpc::Method<(), ()> = h2grpc::Method::new("echo.v1.Echo/Say");
/// let _ = BAD;
/// ```
pub struct Method<Req, Resp> {
    path: &'static str,
    /// Index of the `/` between the service and the method.
    split: usize,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req, Resp> Method<Req, Resp> {
    /// The method at `path`, `/package.Service/Method`.
    ///
    /// # Panics
    ///
    /// If `path` is not a method path (see the [module docs](self)); in a `const`, that is a
    /// compile error naming the rule broken.
    pub const fn new(path: &'static str) -> Method<Req, Resp> {
        match check_path(path) {
            Ok(split) => Method { path, split, _types: PhantomData },
            Err(reason) => panic!("{}", reason),
        }
    }

    /// The whole path, `/package.Service/Method`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The fully-qualified service name, `package.Service`.
    pub fn service(&self) -> &'static str {
        &self.path[1..self.split]
    }

    /// The method's name, `Method`.
    pub fn name(&self) -> &'static str {
        &self.path[self.split + 1..]
    }
}

impl<Req, Resp> Clone for Method<Req, Resp> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Req, Resp> Copy for Method<Req, Resp> {}

impl<Req, Resp> fmt::Debug for Method<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Method").field(&self.path).finish()
    }
}

impl<Req, Resp> fmt::Display for Method<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path)
    }
}

/// What the [`Channel`](crate::Channel) calls accept as the method: a [`Method`] handle, which
/// fixes the request and response types, or a path string (`&str`, `String`), checked when
/// the call is made (a malformed one fails the call with INTERNAL before anything is sent),
/// for tools that learn paths at run time.
///
/// ```
/// use h2grpc::method::IntoMethod;
/// use h2grpc::{Code, Method};
///
/// const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
/// assert_eq!(IntoMethod::<String, String>::path(&SAY)?, "/echo.v1.Echo/Say");
/// let typed_at_run_time = String::from("/echo.v1.Echo/Say");
/// assert_eq!(IntoMethod::<String, String>::path(&typed_at_run_time)?, SAY.path());
/// let slip = IntoMethod::<String, String>::path(&"echo.v1.Echo/Say").unwrap_err();
/// assert_eq!(slip.code(), Code::Internal);
/// # Ok::<(), h2grpc::Status>(())
/// ```
pub trait IntoMethod<Req, Resp>: sealed::Sealed {
    /// The path, or INTERNAL naming what is wrong with it.
    fn path(&self) -> Result<&str, Status>;
}

mod sealed {
    pub trait Sealed {}
}

impl<Req, Resp> sealed::Sealed for Method<Req, Resp> {}
impl<Req, Resp> IntoMethod<Req, Resp> for Method<Req, Resp> {
    fn path(&self) -> Result<&str, Status> {
        Ok(self.path)
    }
}

impl<Req, Resp> sealed::Sealed for &Method<Req, Resp> {}
impl<Req, Resp> IntoMethod<Req, Resp> for &Method<Req, Resp> {
    fn path(&self) -> Result<&str, Status> {
        Ok(self.path)
    }
}

/// Any string: `&str`, `String`, `&String`, and references to them, as a `&str` parameter
/// would take them.
impl<S: AsRef<str>> sealed::Sealed for S {}
impl<S: AsRef<str>, Req, Resp> IntoMethod<Req, Resp> for S {
    fn path(&self) -> Result<&str, Status> {
        let path = self.as_ref();
        match check_path(path) {
            Ok(_) => Ok(path),
            Err(reason) => Err(Status::internal(format!("{reason}: {path:?}"))),
        }
    }
}

/// What [`Service`](crate::Service)'s methods accept as the method: its name (`"Say"`), or a
/// [`Method`] handle, which also fixes the handler's request and response types and must
/// belong to the service it is added to.
pub trait MethodName<Req, Resp>: sealed::Sealed {
    /// The method's name, and the service it belongs to if it says.
    #[doc(hidden)]
    fn name(&self) -> (&str, Option<&str>);
}

impl<Req, Resp> MethodName<Req, Resp> for Method<Req, Resp> {
    fn name(&self) -> (&str, Option<&str>) {
        (Method::name(self), Some(self.service()))
    }
}

impl<Req, Resp> MethodName<Req, Resp> for &Method<Req, Resp> {
    fn name(&self) -> (&str, Option<&str>) {
        (Method::name(self), Some(self.service()))
    }
}

impl<S: AsRef<str>, Req, Resp> MethodName<Req, Resp> for S {
    fn name(&self) -> (&str, Option<&str>) {
        (self.as_ref(), None)
    }
}

/// Checks a whole path; the index of the `/` before the method name.
pub(crate) const fn check_path(path: &str) -> Result<usize, &'static str> {
    let bytes = path.as_bytes();
    if bytes.is_empty() || bytes[0] != b'/' {
        return Err("a method path starts with '/': /package.Service/Method");
    }
    // The last '/' splits service from method, as servers route.
    let mut split = bytes.len() - 1;
    while bytes[split] != b'/' {
        split -= 1;
    }
    if split == 0 {
        return Err("a method path has two parts: /package.Service/Method");
    }
    match check_name(bytes, 1, split, true) {
        Ok(()) => {}
        Err(reason) => return Err(reason),
    }
    match check_name(bytes, split + 1, bytes.len(), false) {
        Ok(()) => Ok(split),
        Err(reason) => Err(reason),
    }
}

/// Checks a service name (`package.Service`, without slashes).
pub(crate) fn check_service_name(name: &str) -> Result<(), &'static str> {
    check_name(name.as_bytes(), 0, name.len(), true)
}

/// Checks a method name (`Method`, without slashes).
pub(crate) fn check_method_name(name: &str) -> Result<(), &'static str> {
    check_name(name.as_bytes(), 0, name.len(), false)
}

/// `bytes[start..end]` as a service name (dotted, no empty segment) or a method name: not
/// empty, visible ASCII other than `/`, `?`, `#` and `%`, which would change how the path reads.
const fn check_name(
    bytes: &[u8],
    start: usize,
    end: usize,
    service: bool,
) -> Result<(), &'static str> {
    if start == end {
        return Err(if service {
            "the service name is empty (want package.Service)"
        } else {
            "the method name is empty"
        });
    }
    let mut i = start;
    while i < end {
        let b = bytes[i];
        if b == b'/' {
            return Err(if service {
                "a service name holds no '/' (want package.Service, without a leading '/')"
            } else {
                "a method name holds no '/'"
            });
        }
        if b <= b' ' || b >= 0x7f || b == b'?' || b == b'#' || b == b'%' {
            return Err("a method path holds only visible ASCII other than '?', '#' and '%'");
        }
        if service && b == b'.' && (i == start || i + 1 == end || bytes[i + 1] == b'.') {
            return Err("the service name has an empty segment (want package.Service)");
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_paths_split_at_the_last_slash() {
        let m: Method<(), ()> = Method::new("/grpc.health.v1.Health/Check");
        assert_eq!((m.service(), m.name()), ("grpc.health.v1.Health", "Check"));
        let m: Method<(), ()> = Method::new("/Svc/M_2");
        assert_eq!((m.service(), m.name(), m.path()), ("Svc", "M_2", "/Svc/M_2"));
    }

    #[test]
    fn malformed_paths_name_the_rule_they_break() {
        for (path, says) in [
            ("", "starts with '/'"),
            ("echo.v1.Echo/Say", "starts with '/'"),
            ("/Say", "two parts"),
            ("/echo.v1.Echo/", "method name is empty"),
            ("//Say", "service name is empty"),
            ("/echo..v1.Echo/Say", "empty segment"),
            ("/.Echo/Say", "empty segment"),
            ("/echo.v1.Echo/S ay", "visible ASCII"),
            ("/echo.v1.Echo/Say?x=1", "visible ASCII"),
            ("/echo.v1.Echo/Sé", "visible ASCII"),
        ] {
            let reason = check_path(path).expect_err(path);
            assert!(reason.contains(says), "{path:?}: {reason}");
        }
        // A path with three parts fails on the service name, as it holds a '/'.
        assert!(check_path("/a/b/c").unwrap_err().contains("service name holds no '/'"));
    }

    #[test]
    fn a_path_string_is_checked_when_the_call_is_made() {
        let status = IntoMethod::<(), ()>::path(&"echo.v1.Echo/Say").unwrap_err();
        let paths = ["/a.B/C".to_owned()];
        for path in &paths {
            assert_eq!(IntoMethod::<(), ()>::path(&path).unwrap(), "/a.B/C"); // &&String
        }
        assert_eq!(status.code(), crate::status::Code::Internal);
        assert!(status.message().contains("\"echo.v1.Echo/Say\""), "{}", status.message());
        assert_eq!(IntoMethod::<(), ()>::path(&"/a.B/C").unwrap(), "/a.B/C");
    }

    #[test]
    #[should_panic(expected = "starts with '/'")]
    fn a_malformed_path_panics_when_not_const() {
        let path = String::from("no-slash").leak();
        let _: Method<(), ()> = Method::new(path);
    }
}
