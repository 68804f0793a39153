//! Custom metadata (stub: being written).
use http::HeaderMap;

/// Metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    headers: HeaderMap,
}

impl Metadata {
    /// Empty.
    pub fn new() -> Metadata {
        Metadata::default()
    }
    /// Is empty.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
    /// Insert.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ()> {
        let _ = (key, value);
        Ok(())
    }
    /// Get.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers.get(key).and_then(|v| v.to_str().ok())
    }
}
