//! The encoded `FileDescriptorSet`s written next to the generated code for server reflection:
//! one per package that declares a service, holding the package's files and every file they
//! import (directly or not), dependencies first, as `protoc --include_imports` orders them.
//!
//! Source info (comments and locations) is left out, as protoc-gen-go leaves it out of the
//! descriptors grpc-go embeds: it would double their size for the comments alone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;

use prost::Message as _;
use prost_types::{FileDescriptorProto, FileDescriptorSet};

/// The file name prost-build gives a package's code (`helloworld.rs`, `_.rs` without a
/// package), with `extension` instead of `rs`.
pub(crate) fn file_name(package: &str, extension: &str) -> String {
    let rust = prost_build::Module::from_protobuf_package_name(package).to_file_name_or("_");
    let stem = rust.strip_suffix(".rs").unwrap_or(&rust);
    format!("{stem}.{extension}")
}

/// Each package with a service, with its encoded descriptor set.
pub(crate) fn per_package(set: &FileDescriptorSet) -> BTreeMap<String, Vec<u8>> {
    let by_name: HashMap<&str, &FileDescriptorProto> =
        set.file.iter().map(|file| (file.name(), file)).collect();
    let packages: HashSet<&str> = set
        .file
        .iter()
        .filter(|file| !file.service.is_empty())
        .map(|file| file.package())
        .collect();
    let mut out = BTreeMap::new();
    for package in packages {
        // The package's files and, transitively, what they import.
        let mut wanted: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> =
            set.file.iter().filter(|f| f.package() == package).map(|f| f.name()).collect();
        while let Some(name) = stack.pop() {
            if wanted.insert(name) {
                if let Some(file) = by_name.get(name) {
                    stack.extend(file.dependency.iter().map(String::as_str));
                }
            }
        }
        // In the set's own order, which puts every file after its imports.
        let file = set
            .file
            .iter()
            .filter(|file| wanted.contains(file.name()))
            .map(|file| FileDescriptorProto { source_code_info: None, ..file.clone() })
            .collect();
        out.insert(package.to_owned(), FileDescriptorSet { file }.encode_to_vec());
    }
    out
}

/// Writes `<package>.bin` into `dir` for each package with a service.
pub(crate) fn write(set: &FileDescriptorSet, dir: &Path) -> io::Result<()> {
    for (package, bytes) in per_package(set) {
        let path = dir.join(file_name(&package, "bin"));
        // Unchanged bytes are not rewritten, so Cargo sees no change to rebuild for.
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, package: &str, deps: &[&str], service: bool) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(name.to_owned()),
            package: Some(package.to_owned()),
            dependency: deps.iter().map(|d| (*d).to_owned()).collect(),
            service: if service { vec![Default::default()] } else { Vec::new() },
            source_code_info: Some(Default::default()),
            ..Default::default()
        }
    }

    #[test]
    fn a_package_set_holds_its_files_and_their_imports_in_order_without_source_info() {
        let set = FileDescriptorSet {
            file: vec![
                file("google/protobuf/empty.proto", "google.protobuf", &[], false),
                file("common.proto", "common", &["google/protobuf/empty.proto"], false),
                file("unrelated.proto", "other", &[], false),
                file("api.proto", "api", &["common.proto"], true),
                file("api_more.proto", "api", &[], false),
                file("svc.proto", "", &[], true),
            ],
        };
        let sets = per_package(&set);
        assert_eq!(sets.keys().collect::<Vec<_>>(), ["", "api"]);
        let api = FileDescriptorSet::decode(sets["api"].as_slice()).unwrap();
        let names: Vec<&str> = api.file.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            ["google/protobuf/empty.proto", "common.proto", "api.proto", "api_more.proto"]
        );
        assert!(api.file.iter().all(|f| f.source_code_info.is_none()));
    }

    #[test]
    fn file_names_follow_prost_build() {
        assert_eq!(file_name("helloworld", "bin"), "helloworld.bin");
        assert_eq!(file_name("grpc.health.v1", "bin"), "grpc.health.v1.bin");
        assert_eq!(file_name("", "bin"), "_.bin");
    }
}
