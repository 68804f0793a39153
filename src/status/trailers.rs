//! Status trailers (being written).
