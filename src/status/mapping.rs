//! Status mapping (being written).
