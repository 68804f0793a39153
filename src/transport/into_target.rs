//! [`IntoTarget`]: what [`Channel::connect`](crate::Channel::connect) and its siblings accept
//! as a target: a target string, a [`Target`], or a Unix socket path.

use std::path::{Path, PathBuf};

use super::Target;
use crate::error::Error;

/// Something a client can connect to: a target string in one of the gRPC naming forms
/// (`"unix:/run/app.sock"`, `"host:port"`; see [`Target`]), a parsed [`Target`], or a Unix
/// socket path as a [`Path`] or [`PathBuf`], taken as it is (not UTF-8, starting with `//`:
/// whatever [`Server::bind_unix`](crate::server::Builder::bind_unix) accepts).
///
/// A string is always parsed as a target, so `"app.sock"` means TCP host `app.sock` with no
/// port (an error); pass `Path::new("app.sock")` for the socket file.
///
/// ```
/// use std::path::Path;
/// use h2grpc::transport::IntoTarget;
/// use h2grpc::Target;
///
/// let by_path = Path::new("/run/app.sock").into_target()?;
/// let by_name = "unix:/run/app.sock".into_target()?;
/// assert_eq!(by_path, by_name);
/// assert_eq!(by_path, Target::Unix("/run/app.sock".into()));
/// assert!("unix://host/app.sock".into_target().is_err());
/// # Ok::<(), h2grpc::Error>(())
/// ```
pub trait IntoTarget: sealed::Sealed {
    /// The target; fails with [`ErrorKind::InvalidTarget`](crate::ErrorKind::InvalidTarget)
    /// only for a string that does not parse.
    fn into_target(self) -> Result<Target, Error>;

    /// The target, and whether it was an `https://` string (feature `tls`), for
    /// [`Channel::builder`](crate::Channel::builder).
    #[doc(hidden)]
    fn into_target_and_https(self) -> Result<(Target, bool), Error>
    where
        Self: Sized,
    {
        self.into_target().map(|target| (target, false))
    }
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! by_parse {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl IntoTarget for $ty {
            fn into_target(self) -> Result<Target, Error> {
                Target::parse(&self)
            }

            fn into_target_and_https(self) -> Result<(Target, bool), Error> {
                #[cfg(feature = "tls")]
                if let Some(host_port) = crate::transport::tls::strip_https(&self) {
                    return Ok((Target::parse(&host_port)?, true));
                }
                Ok((Target::parse(&self)?, false))
            }
        }
    )*};
}
by_parse!(&str, String, &String);

macro_rules! by_path {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl IntoTarget for $ty {
            fn into_target(self) -> Result<Target, Error> {
                Ok(Target::Unix(PathBuf::from(self)))
            }
        }
    )*};
}
by_path!(&Path, PathBuf, &PathBuf);

impl sealed::Sealed for Target {}
impl IntoTarget for Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self)
    }
}

impl sealed::Sealed for &Target {}
impl IntoTarget for &Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn a_path_is_taken_literally_even_when_it_would_not_parse_as_a_string() {
        // "unix://srv/a.sock" would be read as an authority; as a path it is a path.
        let path = Path::new("//srv/a.sock");
        assert_eq!(path.into_target().unwrap(), Target::Unix(path.to_owned()));
        let not_utf8 = Path::new(OsStr::from_bytes(b"/tmp/\xff.sock"));
        assert_eq!(not_utf8.into_target().unwrap(), Target::Unix(not_utf8.to_owned()));
    }

    #[test]
    fn strings_are_parsed_as_targets() {
        let owned = String::from("unix:///run/a.sock");
        assert_eq!((&owned).into_target().unwrap(), Target::Unix("/run/a.sock".into()));
        assert_eq!(owned.into_target().unwrap(), Target::Unix("/run/a.sock".into()));
        assert!("a.sock".into_target().is_err());
    }
}
