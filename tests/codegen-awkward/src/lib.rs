//! The code h2grpc-build generates for the awkward protos in `tests/protos/awkward/`, in modules
//! laid out like their packages (prost's cross-package paths are relative: `super::super::X`).
//! The tests in `tests/` implement the generated traits and call them over a Unix socket.

#![forbid(unsafe_code)]

/// `packageless.proto`: no package, generated as `_.rs`.
pub mod packageless {
    h2grpc::include_proto!("_");
}

/// The packaged protos.
pub mod awkward {
    /// `two_services.proto`.
    pub mod two {
        h2grpc::include_proto!("awkward.two");
    }
    /// `keywords.proto`.
    pub mod keywords {
        h2grpc::include_proto!("awkward.keywords");
    }
    /// `empty.proto`.
    pub mod empty {
        h2grpc::include_proto!("awkward.empty");
    }
    /// `nested_base.proto`, and `nested.proto` below it.
    pub mod nested {
        h2grpc::include_proto!("awkward.nested");
        /// `awkward.nested.deeper`.
        pub mod deeper {
            /// `nested.proto`.
            pub mod v1 {
                h2grpc::include_proto!("awkward.nested.deeper.v1");
            }
        }
    }
    /// `same_names.proto`.
    pub mod same {
        h2grpc::include_proto!("awkward.same");
    }
}
