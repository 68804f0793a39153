//! The descriptors reflection answers from: every file of the registered
//! `FileDescriptorSet`s, kept as the exact bytes it came in, and an index from each
//! fully-qualified symbol and each extension to the file that declares it.
//!
//! Only the fields of `descriptor.proto` that name things are decoded (names, packages,
//! dependencies, nested declarations, extension numbers); everything else is skipped as
//! unknown fields, so no `prost-types` is needed and the files are served byte for byte.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use bytes::Bytes;
use prost::Message;

/// `google.protobuf.FileDescriptorSet`, each file left encoded.
#[derive(Clone, PartialEq, Message)]
struct FileDescriptorSet {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    file: Vec<Bytes>,
}

/// The naming parts of `google.protobuf.FileDescriptorProto`.
#[derive(Clone, PartialEq, Message)]
struct FileDescriptorProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    package: String,
    #[prost(string, repeated, tag = "3")]
    dependency: Vec<String>,
    #[prost(message, repeated, tag = "4")]
    message_type: Vec<DescriptorProto>,
    #[prost(message, repeated, tag = "5")]
    enum_type: Vec<EnumDescriptorProto>,
    #[prost(message, repeated, tag = "6")]
    service: Vec<NamedList>,
    #[prost(message, repeated, tag = "7")]
    extension: Vec<FieldDescriptorProto>,
}

/// `DescriptorProto`: a message and what it declares.
#[derive(Clone, PartialEq, Message)]
struct DescriptorProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, repeated, tag = "2")]
    field: Vec<FieldDescriptorProto>,
    #[prost(message, repeated, tag = "3")]
    nested_type: Vec<DescriptorProto>,
    #[prost(message, repeated, tag = "4")]
    enum_type: Vec<EnumDescriptorProto>,
    #[prost(message, repeated, tag = "6")]
    extension: Vec<FieldDescriptorProto>,
    #[prost(message, repeated, tag = "8")]
    oneof_decl: Vec<Named>,
}

/// `FieldDescriptorProto`: a field or an extension (`extendee` set).
#[derive(Clone, PartialEq, Message)]
struct FieldDescriptorProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    extendee: String,
    #[prost(int32, tag = "3")]
    number: i32,
}

/// `EnumDescriptorProto`: an enum and its values.
#[derive(Clone, PartialEq, Message)]
struct EnumDescriptorProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, repeated, tag = "2")]
    value: Vec<Named>,
}

/// `ServiceDescriptorProto` (methods under tag 2), or anything named at tag 1.
#[derive(Clone, PartialEq, Message)]
struct NamedList {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, repeated, tag = "2")]
    item: Vec<Named>,
}

/// `OneofDescriptorProto`, `EnumValueDescriptorProto`, `MethodDescriptorProto`: a name.
#[derive(Clone, PartialEq, Message)]
struct Named {
    #[prost(string, tag = "1")]
    name: String,
}

/// A registered descriptor set that does not decode.
#[derive(Debug)]
pub struct InvalidDescriptorSet {
    set: usize,
    error: prost::DecodeError,
}

impl fmt::Display for InvalidDescriptorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file descriptor set #{} does not decode: {}", self.set, self.error)
    }
}

impl std::error::Error for InvalidDescriptorSet {}

struct File {
    bytes: Bytes,
    dependencies: Vec<String>,
}

/// Files by name, and the file of each symbol and extension.
#[derive(Default)]
pub(crate) struct Index {
    files: HashMap<String, File>,
    symbols: HashMap<String, String>,
    /// Extended message (no leading dot) → field number → file.
    extensions: HashMap<String, HashMap<i32, String>>,
    messages: BTreeSet<String>,
}

impl Index {
    /// Adds every file of an encoded `FileDescriptorSet`. A file name or symbol seen before
    /// keeps its first file (sets that import the same file carry the same bytes).
    pub(crate) fn add_set(
        &mut self,
        set: Bytes,
        position: usize,
    ) -> Result<(), InvalidDescriptorSet> {
        let invalid = |error| InvalidDescriptorSet { set: position, error };
        let set = FileDescriptorSet::decode(set).map_err(invalid)?;
        for bytes in set.file {
            let file = FileDescriptorProto::decode(bytes.clone()).map_err(invalid)?;
            if self.files.contains_key(&file.name) {
                continue;
            }
            self.index_file(&file);
            let entry = File { bytes, dependencies: file.dependency };
            self.files.insert(file.name, entry);
        }
        Ok(())
    }

    fn index_file(&mut self, file: &FileDescriptorProto) {
        let prefix =
            if file.package.is_empty() { String::new() } else { format!("{}.", file.package) };
        for message in &file.message_type {
            self.index_message(&file.name, &prefix, message);
        }
        for e in &file.enum_type {
            self.index_enum(&file.name, &prefix, e);
        }
        for service in &file.service {
            let name = format!("{prefix}{}", service.name);
            for method in &service.item {
                self.symbol(&file.name, format!("{name}.{}", method.name));
            }
            self.symbol(&file.name, name);
        }
        for extension in &file.extension {
            self.index_extension(&file.name, &prefix, extension);
        }
    }

    fn index_message(&mut self, file: &str, prefix: &str, message: &DescriptorProto) {
        let name = format!("{prefix}{}", message.name);
        let inner = format!("{name}.");
        for field in &message.field {
            self.symbol(file, format!("{inner}{}", field.name));
        }
        for oneof in &message.oneof_decl {
            self.symbol(file, format!("{inner}{}", oneof.name));
        }
        for nested in &message.nested_type {
            self.index_message(file, &inner, nested);
        }
        for e in &message.enum_type {
            self.index_enum(file, &inner, e);
        }
        for extension in &message.extension {
            self.index_extension(file, &inner, extension);
        }
        self.messages.insert(name.clone());
        self.symbol(file, name);
    }

    /// An enum's values are its siblings, not its children (protobuf's C++ scoping).
    fn index_enum(&mut self, file: &str, prefix: &str, e: &EnumDescriptorProto) {
        self.symbol(file, format!("{prefix}{}", e.name));
        for value in &e.value {
            self.symbol(file, format!("{prefix}{}", value.name));
        }
    }

    fn index_extension(&mut self, file: &str, prefix: &str, extension: &FieldDescriptorProto) {
        self.symbol(file, format!("{prefix}{}", extension.name));
        let extendee = extension.extendee.trim_start_matches('.').to_owned();
        let numbers = self.extensions.entry(extendee).or_default();
        numbers.entry(extension.number).or_insert_with(|| file.to_owned());
    }

    fn symbol(&mut self, file: &str, name: String) {
        self.symbols.entry(name).or_insert_with(|| file.to_owned());
    }

    /// The file declaring `symbol` (a leading dot is allowed).
    pub(crate) fn file_of_symbol(&self, symbol: &str) -> Option<&str> {
        self.symbols.get(symbol.trim_start_matches('.')).map(String::as_str)
    }

    /// The file declaring extension `number` of `message`.
    pub(crate) fn file_of_extension(&self, message: &str, number: i32) -> Option<&str> {
        let numbers = self.extensions.get(message.trim_start_matches('.'))?;
        numbers.get(&number).map(String::as_str)
    }

    /// The extension numbers of `message`, sorted; `None` for an unknown message.
    pub(crate) fn extension_numbers(&self, message: &str) -> Option<Vec<i32>> {
        let message = message.trim_start_matches('.');
        if !self.messages.contains(message) {
            return None;
        }
        let mut numbers: Vec<i32> = self
            .extensions
            .get(message)
            .map(|numbers| numbers.keys().copied().collect())
            .unwrap_or_default();
        numbers.sort_unstable();
        Some(numbers)
    }

    pub(crate) fn has_file(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// `root`, then the files it depends on, directly or not, that `sent` does not hold yet
    /// (the root always: clients require it). Every file returned is added to `sent`.
    /// Dependencies missing from the index are left out.
    pub(crate) fn with_dependencies(&self, root: &str, sent: &mut BTreeSet<String>) -> Vec<Bytes> {
        let mut out = Vec::new();
        let Some(file) = self.files.get(root) else { return out };
        out.push(file.bytes.clone());
        sent.insert(root.to_owned());
        let mut stack: Vec<&str> = file.dependencies.iter().rev().map(String::as_str).collect();
        while let Some(name) = stack.pop() {
            let Some(file) = self.files.get(name) else { continue };
            if !sent.insert(name.to_owned()) {
                continue;
            }
            out.push(file.bytes.clone());
            stack.extend(file.dependencies.iter().rev().map(String::as_str));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, package: &str, deps: &[&str]) -> FileDescriptorProto {
        FileDescriptorProto {
            name: name.into(),
            package: package.into(),
            dependency: deps.iter().map(|d| (*d).to_owned()).collect(),
            message_type: Vec::new(),
            enum_type: Vec::new(),
            service: Vec::new(),
            extension: Vec::new(),
        }
    }

    fn named(name: &str) -> Named {
        Named { name: name.into() }
    }

    fn message(name: &str) -> DescriptorProto {
        DescriptorProto {
            name: name.into(),
            field: Vec::new(),
            nested_type: Vec::new(),
            enum_type: Vec::new(),
            extension: Vec::new(),
            oneof_decl: Vec::new(),
        }
    }

    fn field(name: &str, extendee: &str, number: i32) -> FieldDescriptorProto {
        FieldDescriptorProto { name: name.into(), extendee: extendee.into(), number }
    }

    fn set(files: Vec<FileDescriptorProto>) -> Bytes {
        let file = files.iter().map(|f| Bytes::from(f.encode_to_vec())).collect();
        FileDescriptorSet { file }.encode_to_vec().into()
    }

    fn index() -> Index {
        let base = file("base.proto", "", &[]);
        let mut common = file("common.proto", "pkg", &["base.proto"]);
        let mut outer = message("Outer");
        outer.field.push(field("id", "", 1));
        outer.oneof_decl.push(named("choice"));
        let mut inner = message("Inner");
        inner.enum_type.push(EnumDescriptorProto { name: "Kind".into(), value: vec![named("A")] });
        outer.nested_type.push(inner);
        outer.extension.push(field("nested_ext", ".pkg.Outer", 100));
        common.message_type.push(outer);
        common
            .enum_type
            .push(EnumDescriptorProto { name: "Top".into(), value: vec![named("TOP_X")] });
        let mut api = file("api.proto", "pkg", &["common.proto", "base.proto"]);
        api.service.push(NamedList { name: "Svc".into(), item: vec![named("Call")] });
        api.extension.push(field("ext", ".pkg.Outer", 7));
        let mut index = Index::default();
        index.add_set(set(vec![base, common, api]), 0).unwrap();
        index
    }

    #[test]
    fn every_kind_of_symbol_finds_its_file() {
        let index = index();
        for (symbol, file) in [
            ("pkg.Svc", "api.proto"),
            ("pkg.Svc.Call", "api.proto"),
            (".pkg.Svc", "api.proto"),
            ("pkg.ext", "api.proto"),
            ("pkg.Outer", "common.proto"),
            ("pkg.Outer.id", "common.proto"),
            ("pkg.Outer.choice", "common.proto"),
            ("pkg.Outer.Inner", "common.proto"),
            ("pkg.Outer.Inner.Kind", "common.proto"),
            ("pkg.Outer.Inner.A", "common.proto"),
            ("pkg.Outer.nested_ext", "common.proto"),
            ("pkg.Top", "common.proto"),
            ("pkg.TOP_X", "common.proto"),
        ] {
            assert_eq!(index.file_of_symbol(symbol), Some(file), "{symbol}");
        }
        assert_eq!(index.file_of_symbol("pkg.Nope"), None);
        assert_eq!(index.file_of_symbol("pkg"), None);
    }

    #[test]
    fn extensions_are_found_by_message_and_number() {
        let index = index();
        assert_eq!(index.file_of_extension("pkg.Outer", 7), Some("api.proto"));
        assert_eq!(index.file_of_extension(".pkg.Outer", 100), Some("common.proto"));
        assert_eq!(index.file_of_extension("pkg.Outer", 8), None);
        assert_eq!(index.extension_numbers("pkg.Outer"), Some(vec![7, 100]));
        assert_eq!(index.extension_numbers("pkg.Outer.Inner"), Some(vec![]));
        assert_eq!(index.extension_numbers("pkg.Svc"), None, "not a message");
    }

    #[test]
    fn a_file_comes_first_then_its_dependencies_once_per_stream() {
        let index = index();
        let names = |files: Vec<Bytes>| -> Vec<String> {
            files.into_iter().map(|b| FileDescriptorProto::decode(b).unwrap().name).collect()
        };
        let mut sent = BTreeSet::new();
        let first = names(index.with_dependencies("api.proto", &mut sent));
        assert_eq!(first, ["api.proto", "common.proto", "base.proto"]);
        // Asked again on the same stream: the root again, nothing it depends on.
        assert_eq!(names(index.with_dependencies("common.proto", &mut sent)), ["common.proto"]);
        assert!(index.with_dependencies("missing.proto", &mut sent).is_empty());
    }

    #[test]
    fn files_are_served_byte_for_byte_and_the_first_of_a_name_wins() {
        let mut index = Index::default();
        let original = file("a.proto", "first", &[]);
        index.add_set(set(vec![original.clone()]), 0).unwrap();
        index.add_set(set(vec![file("a.proto", "second", &[])]), 1).unwrap();
        let served = index.with_dependencies("a.proto", &mut BTreeSet::new());
        assert_eq!(served, [Bytes::from(original.encode_to_vec())]);
    }

    #[test]
    fn a_set_that_does_not_decode_is_refused_with_its_position() {
        let err = Index::default().add_set(Bytes::from_static(b"\x0a\x05ab"), 3).unwrap_err();
        assert!(err.to_string().starts_with("file descriptor set #3 does not decode"), "{err}");
    }
}
