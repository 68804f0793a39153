//! Custom metadata: the application's own headers and trailers, text and binary.
//!
//! gRPC metadata is a multimap carried as HTTP/2 header fields (PROTOCOL-HTTP2.md, "Custom
//! Metadata"). Keys are lowercase `[0-9a-z_.-]+`. A key ending in `-bin` carries bytes, sent as
//! base64 (RFC 4648, standard alphabet): we emit it unpadded and accept it padded or not.
//! Other keys carry printable ASCII (0x20..=0x7E).
//!
//! ```text
//! app:   insert("tenant", "acme")      insert_bin("trace-bin", [0xAB, 0xAB, 0xAB])
//! wire:  tenant: acme                  trace-bin: q6ur
//! ```
//!
//! Names the protocol uses itself (`grpc-*`, `te`, `content-type`, connection-level headers)
//! are reserved: [`Metadata::insert`] rejects them and [`Metadata::from_headers`] drops them.
//! This module is also the one place the crate spells wire header names.

use std::fmt;

use http::header::{HeaderMap, HeaderName, HeaderValue};

mod binary;
mod invalid;
mod names;
mod syntax;

pub(crate) use self::binary::{split_bin, BASE64};

use self::binary::bin_value;
pub use self::invalid::InvalidMetadata;
use self::invalid::Kind;
#[allow(unused_imports)] // Each name is used by some feature set, not all by every one.
pub(crate) use self::names::{
    APPLICATION_GRPC, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_MESSAGE, GRPC_STATUS,
    GRPC_STATUS_DETAILS_BIN, GRPC_TIMEOUT, TE, TRAILERS,
};
pub use self::syntax::is_reserved;
use self::syntax::{bin_key, is_bin, text_key, text_value};

/// Custom metadata: a map over [`http::HeaderMap`] with ASCII and binary (`-bin`) values.
///
/// A key may hold several values, in order. Lookups are case-insensitive, as HTTP names are;
/// keys given to `insert`/`append` must already be lowercase.
///
/// ```
/// let mut md = h2grpc::Metadata::new();
/// md.insert("tenant", "acme")?;
/// md.append_bin("trace-bin", [0xAB, 0xAB, 0xAB])?;
/// assert_eq!(md.get("tenant"), Some("acme"));
/// assert_eq!(md.get_bin("trace-bin"), Some(vec![0xAB, 0xAB, 0xAB]));
/// assert_eq!(md.as_headers()["trace-bin"], "q6ur");
/// assert!(md.insert("grpc-status", "0").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Metadata {
    headers: HeaderMap,
}

impl Metadata {
    /// An empty map.
    ///
    /// ```
    /// assert!(h2grpc::Metadata::new().is_empty());
    /// ```
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// The number of values (a key with two values counts twice).
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.append("k", "1")?;
    /// md.append("k", "2")?;
    /// assert_eq!(md.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether the map holds no values.
    ///
    /// ```
    /// assert!(h2grpc::Metadata::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Sets the text value of `key`, replacing any values it had.
    ///
    /// The key must be lowercase `[0-9a-z_.-]+`, not end in `-bin` and not be
    /// [reserved](is_reserved). The value must be printable ASCII (0x20..=0x7E) and must not
    /// start or end with a space: HTTP/2 peers may strip it or treat it as malformed
    /// (RFC 9113 §8.2.1). An empty value is allowed.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert("k", "old")?;
    /// md.insert("k", "new")?;
    /// assert_eq!(md.get_all("k").collect::<Vec<_>>(), ["new"]);
    /// assert!(md.insert("Upper", "x").is_err());
    /// assert!(md.insert("k", "line\nbreak").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), InvalidMetadata> {
        self.put(key, text_key(key)?, text_value(key, value)?, true)
    }

    /// Adds a text value to `key`, after any it has. Rules as for [`Metadata::insert`].
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.append("k", "1")?;
    /// md.append("k", "2")?;
    /// assert_eq!(md.get_all("k").collect::<Vec<_>>(), ["1", "2"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append(&mut self, key: &str, value: &str) -> Result<(), InvalidMetadata> {
        self.put(key, text_key(key)?, text_value(key, value)?, false)
    }

    /// Sets the binary value of `key`, replacing any values it had. The key must end in
    /// `-bin`; the bytes go out as unpadded base64.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert_bin("blob-bin", b"\x00\xff")?;
    /// assert_eq!(md.as_headers()["blob-bin"], "AP8");
    /// assert!(md.insert_bin("blob", b"x").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_bin(&mut self, key: &str, data: impl AsRef<[u8]>) -> Result<(), InvalidMetadata> {
        self.put(key, bin_key(key)?, bin_value(data.as_ref()), true)
    }

    /// Adds a binary value to `key`, after any it has. Rules as for [`Metadata::insert_bin`].
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.append_bin("blob-bin", [1])?;
    /// md.append_bin("blob-bin", [2])?;
    /// assert_eq!(md.get_all_bin("blob-bin"), [vec![1], vec![2]]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_bin(&mut self, key: &str, data: impl AsRef<[u8]>) -> Result<(), InvalidMetadata> {
        self.put(key, bin_key(key)?, bin_value(data.as_ref()), false)
    }

    /// The first text value of `key`. `None` for a `-bin` key (use [`Metadata::get_bin`]).
    ///
    /// A received value that is not valid UTF-8 (HTTP obs-text) is skipped here; it stays in
    /// the map and is visible through [`Metadata::iter`].
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert("k", "v")?;
    /// assert_eq!(md.get("k"), Some("v"));
    /// assert_eq!(md.get("missing"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).next()
    }

    /// Every text value of `key`, in order. Empty for a `-bin` key.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.append("k", "a")?;
    /// md.append("k", "b")?;
    /// assert_eq!(md.get_all("k").collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        let values = (!is_bin(key)).then(|| self.headers.get_all(key));
        values.into_iter().flatten().filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
    }

    /// The first binary value of `key`, decoded. `None` for a text key.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert_bin("k-bin", [7, 8])?;
    /// assert_eq!(md.get_bin("k-bin"), Some(vec![7, 8]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_bin(&self, key: &str) -> Option<Vec<u8>> {
        self.bin_values(key).next()
    }

    /// Every binary value of `key`, decoded, in order. A received value holding several
    /// values joined with `,` is split before decoding; padded and unpadded base64 are both
    /// accepted.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("k-bin", http::HeaderValue::from_static("AQ==,Ag"));
    /// let md = h2grpc::Metadata::from_headers(headers)?;
    /// assert_eq!(md.get_all_bin("k-bin"), [vec![1], vec![2]]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_all_bin(&self, key: &str) -> Vec<Vec<u8>> {
        self.bin_values(key).collect()
    }

    /// Removes every value of `key`; whether there was any.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert("k", "v")?;
    /// assert!(md.remove("k"));
    /// assert!(!md.remove("k"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        self.headers.remove(key).is_some()
    }

    /// Each distinct key once.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.append("a", "1")?;
    /// md.append("a", "2")?;
    /// assert_eq!(md.keys().collect::<Vec<_>>(), ["a"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.headers.keys().map(HeaderName::as_str)
    }

    /// Every `(key, value)` pair with the raw wire value (base64 for `-bin` keys).
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert_bin("k-bin", [0xAB; 3])?;
    /// let (key, value) = md.iter().next().unwrap();
    /// assert_eq!((key, value.as_bytes()), ("k-bin", &b"q6ur"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &HeaderValue)> {
        self.headers.iter().map(|(key, value)| (key.as_str(), value))
    }

    /// The metadata in a received header map: drops [reserved](is_reserved) names and checks
    /// that every `-bin` value decodes. Text values outside printable ASCII (obs-text) are
    /// kept, so echoing them back works.
    ///
    /// # Errors
    ///
    /// A `-bin` value that is not base64. Per P2 a server answers this with INTERNAL (use
    /// the `From<InvalidMetadata> for Status` conversion).
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("content-type", http::HeaderValue::from_static("application/grpc"));
    /// headers.insert("tenant", http::HeaderValue::from_static("acme"));
    /// let md = h2grpc::Metadata::from_headers(headers.clone())?;
    /// assert_eq!(md.keys().collect::<Vec<_>>(), ["tenant"]);
    ///
    /// headers.insert("x-bin", http::HeaderValue::from_static("not base64!"));
    /// assert!(h2grpc::Metadata::from_headers(headers).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_headers(mut headers: HeaderMap) -> Result<Metadata, InvalidMetadata> {
        let reserved: Vec<HeaderName> =
            headers.keys().filter(|name| is_reserved(name.as_str())).cloned().collect();
        for name in reserved {
            headers.remove(name);
        }
        for (name, value) in &headers {
            if is_bin(name.as_str()) && split_bin(value).any(|part| part.is_err()) {
                return Err(InvalidMetadata::new(name.as_str(), Kind::BadBase64));
            }
        }
        Ok(Metadata { headers })
    }

    /// Like [`Metadata::from_headers`], but a `-bin` value that does not decode is dropped
    /// instead of failing the whole map.
    pub(crate) fn from_headers_lossy(headers: &HeaderMap) -> Metadata {
        let mut kept = HeaderMap::new();
        for (name, value) in headers {
            let bad_bin = is_bin(name.as_str()) && split_bin(value).any(|part| part.is_err());
            if !is_reserved(name.as_str()) && !bad_bin {
                // A subset of a HeaderMap always fits in a HeaderMap.
                let _ = kept.try_append(name.clone(), value.clone());
            }
        }
        Metadata { headers: kept }
    }

    /// The underlying header map, with wire values.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert("k", "v")?;
    /// assert_eq!(md.as_headers()["k"], "v");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The underlying header map, with wire values.
    ///
    /// ```
    /// let headers = h2grpc::Metadata::new().into_headers();
    /// assert!(headers.is_empty());
    /// ```
    pub fn into_headers(self) -> HeaderMap {
        self.headers
    }

    /// Appends every entry to `dst` (when building response headers or trailers). Should `dst`
    /// run out of room for new names (a `HeaderMap` holds at most 24,576), those entries are
    /// left out rather than panicking.
    ///
    /// ```
    /// let mut md = h2grpc::Metadata::new();
    /// md.insert("k", "v")?;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("k", http::HeaderValue::from_static("first"));
    /// md.extend_into(&mut headers);
    /// assert_eq!(headers.get_all("k").iter().count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extend_into(&self, dst: &mut HeaderMap) {
        for (name, value) in &self.headers {
            let _ = dst.try_append(name.clone(), value.clone());
        }
    }

    fn put(
        &mut self,
        key: &str,
        name: HeaderName,
        value: HeaderValue,
        replace: bool,
    ) -> Result<(), InvalidMetadata> {
        let added = if replace {
            self.headers.try_insert(name, value).map(drop)
        } else {
            self.headers.try_append(name, value).map(drop)
        };
        added.map_err(|_| InvalidMetadata::new(key, Kind::Full))
    }

    fn bin_values(&self, key: &str) -> impl Iterator<Item = Vec<u8>> + '_ {
        let values = is_bin(key).then(|| self.headers.get_all(key));
        values.into_iter().flatten().flat_map(split_bin).filter_map(Result::ok)
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.headers {
            if is_bin(name.as_str()) {
                for part in split_bin(value) {
                    match part {
                        Ok(bytes) => map.entry(&name.as_str(), &bytes::Bytes::from(bytes)),
                        Err(_) => map.entry(&name.as_str(), value),
                    };
                }
            } else {
                match std::str::from_utf8(value.as_bytes()) {
                    Ok(text) => map.entry(&name.as_str(), &text),
                    Err(_) => map.entry(&name.as_str(), value),
                };
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests;
