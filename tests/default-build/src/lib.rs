//! Nothing here: the tests in `tests/` exercise h2grpc built with its default features.
