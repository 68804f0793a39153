use super::*;
use crate::error::ErrorKind;

fn unix(p: &str) -> Target {
    Target::Unix(PathBuf::from(p))
}

fn tcp(host: &str, port: u16) -> Target {
    Target::Tcp { host: host.to_owned(), port }
}

fn good() -> Vec<(&'static str, Target)> {
    vec![
        ("unix:relative/echo.sock", unix("relative/echo.sock")),
        ("unix:echo.sock", unix("echo.sock")),
        ("unix:/abs/echo.sock", unix("/abs/echo.sock")),
        ("unix:///abs/echo.sock", unix("/abs/echo.sock")),
        ("UNIX:/abs/echo.sock", unix("/abs/echo.sock")),
        ("unix:////double", unix("//double")),
        ("unix-abstract:echo", Target::UnixAbstract("echo".to_owned())),
        (
            "unix-abstract:with/slash and space",
            Target::UnixAbstract("with/slash and space".to_owned()),
        ),
        ("localhost:50051", tcp("localhost", 50051)),
        ("dns:localhost:50051", tcp("localhost", 50051)),
        ("dns:///localhost:50051", tcp("localhost", 50051)),
        ("dns:///[::1]:443", tcp("::1", 443)),
        ("[::1]:50051", tcp("::1", 50051)),
        ("[fe80::1%eth0]:50051", tcp("fe80::1%eth0", 50051)),
        ("127.0.0.1:50051", tcp("127.0.0.1", 50051)),
        ("example.com:65535", tcp("example.com", 65535)),
        (":50051", tcp("localhost", 50051)),
        ("dns::50051", tcp("localhost", 50051)),
        (
            "ipv4:127.0.0.1:1,10.0.0.2",
            Target::Ipv4(vec!["127.0.0.1:1".parse().unwrap(), "10.0.0.2:443".parse().unwrap()]),
        ),
        ("IPV4:1.2.3.4:5", Target::Ipv4(vec!["1.2.3.4:5".parse().unwrap()])),
        (
            "ipv6:[::1]:50051,::2,[fe80::3]",
            Target::Ipv6(vec![
                "[::1]:50051".parse().unwrap(),
                "[::2]:443".parse().unwrap(),
                "[fe80::3]:443".parse().unwrap(),
            ]),
        ),
    ]
}

const BAD: &[(&str, &str)] = &[
    ("", "empty"),
    ("unix:", "path is empty"),
    ("unix://", "path is empty"),
    ("unix://host/x", "no host (got \"host\")"),
    ("unix://relative", "no host"),
    ("unix:/a\0b", "nul byte"),
    ("unix-abstract:", "name is empty"),
    ("unix-abstract:a\0b", "nul byte"),
    ("host:notaport", "\"notaport\" is not a number"),
    ("host:0", "\"0\" is not a number"),
    ("host:65536", "\"65536\" is not a number"),
    ("host:", "\"\" is not a number"),
    ("localhost", "port is missing"),
    ("http://x", "scheme \"http\" is not supported"),
    ("https://x:443", "scheme \"https\" is not supported"),
    ("dns://8.8.8.8/example.com:443", "dns server authority"),
    ("dns:///", "port is missing"),
    ("::1:50051", "needs brackets"),
    ("[::1:50051", "no closing bracket"),
    ("[::1]", "port is missing"),
    ("[nothost]:1", "not an ipv6 address"),
    ("a b:1", "not a host name"),
    ("user@host:1", "not a host name"),
    ("ipv4:", "address list is empty"),
    ("ipv6:", "address list is empty"),
    ("ipv4:1.2.3.4:1,", "\"\" is not an ipv4 address"),
    ("ipv4:1.2.3.4:70000", "\"70000\" is not a number"),
    ("ipv4:1.2.3.4:0", "\"0\" is not a number"),
    ("ipv4:localhost:1", "not an ipv4 address"),
    ("ipv6:[::1]:65536", "\"65536\" is not a number"),
    ("ipv6:[::1", "no closing bracket"),
    ("ipv6:[::1]x", "unexpected \"x\""),
    ("ipv6:1.2.3.4", "not an ipv6 address"),
    ("xds:///svc", "scheme \"xds\" is not supported"),
];

#[test]
fn parse_accepts_every_documented_form() {
    for (input, want) in good() {
        let got = Target::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn parse_rejects_bad_forms_with_a_message_naming_the_accepted_forms() {
    for (input, reason) in BAD {
        let err = Target::parse(input).expect_err(input);
        assert_eq!(err.kind(), ErrorKind::InvalidTarget, "{input:?}");
        let msg = err.to_string();
        assert!(msg.contains(reason), "{input:?}: {msg}");
        assert!(msg.contains("unix:///abs/path.sock") && msg.contains("host:port"), "{msg}");
        assert!(msg.contains("ipv4:addr[:port]") && msg.contains("ipv6:[addr]:port"), "{msg}");
    }
}

#[test]
fn display_round_trips_through_parse() {
    let extra =
        [unix("//double/slash"), unix("rel:with:colons"), tcp("fe80::1%eth0", 1), unix("dns:x")];
    for target in good().into_iter().map(|(_, t)| t).chain(extra) {
        let shown = target.to_string();
        assert_eq!(Target::parse(&shown).ok(), Some(target.clone()), "{shown:?}");
    }
}

#[test]
fn display_prints_canonical_forms() {
    assert_eq!(unix("/abs/x.sock").to_string(), "unix:/abs/x.sock");
    assert_eq!(unix("rel.sock").to_string(), "unix:rel.sock");
    assert_eq!(unix("//x").to_string(), "unix:////x");
    assert_eq!(Target::UnixAbstract("n".to_owned()).to_string(), "unix-abstract:n");
    assert_eq!(tcp("::1", 80).to_string(), "[::1]:80");
    assert_eq!(tcp("localhost", 80).to_string(), "localhost:80");
}

#[test]
fn authority_is_localhost_for_unix_and_host_port_for_tcp() {
    assert_eq!(unix("/x.sock").authority(), "localhost");
    assert_eq!(Target::UnixAbstract("x".to_owned()).authority(), "localhost");
    assert_eq!(tcp("127.0.0.1", 50051).authority(), "127.0.0.1:50051");
    assert_eq!(tcp("::1", 50051).authority(), "[::1]:50051");
    assert_eq!(Target::parse(":7").unwrap().authority(), "localhost:7");
}

#[test]
fn from_path_makes_a_unix_target() {
    assert_eq!(Target::from(Path::new("/x.sock")), unix("/x.sock"));
    assert_eq!(Target::from(PathBuf::from("x.sock")), unix("x.sock"));
}
