//! The gRPC wire, frame by frame: a server and a client in one process, the client's end of
//! the connection tapped, seven calls in a fixed order, and the annotated transcript of every
//! byte they exchanged, printed as Markdown.
//!
//! ```sh
//! cargo run --example wiretap            # the transcript; WIRE.md is this output
//! H2GRPC_TRACE=1 cargo run --example wiretap 2>trace.txt   # and the call-level trace
//! ```
//!
//! How it is built:
//! - the connection is an in-memory `tokio::io::duplex` wrapped in a [`Tap`] on the client's
//!   end, so the tap sees what the client writes (client → server) and reads (server →
//!   client); any `AsyncRead + AsyncWrite`, a Unix socket included, can be tapped the same way;
//! - the frames come from [`FrameReader`], fed the tapped bytes in the order they passed;
//! - header blocks are HPACK-compressed: the transcript shows each block's size and the fields
//!   as the call-level trace reports them (the receiving side's `h2` decoded them), and each
//!   gRPC message's `Debug` comes from the same trace;
//! - everything runs on one thread with tokio's clock paused, so the transcript is the same
//!   on every run and the deadline costs no real time. `tests/examples.rs` checks that
//!   `WIRE.md` is exactly this output (`H2GRPC_BLESS=1` rewrites it).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::Duration;

use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::trace::{
    Direction, Event, Frame, FramePayload, FrameReader, Kind, MemorySink, Recorded, Side, Tap,
    TapLog, Trace, TraceSink,
};
use h2grpc::{CallContext, CallOptions, Channel, Method, Peer, Server, Status};

/// The code generated from `proto/wiretap.proto` (package `wiretap.v1`) by `build.rs`.
pub mod wiretap {
    h2grpc::include_proto!("wiretap.v1");
}
use wiretap::demo_client::DemoClient;
use wiretap::demo_server::{self, Demo};
use wiretap::{Greeting, Name, Number};

struct DemoService;

impl Demo for DemoService {
    async fn greet(&self, _ctx: CallContext, name: Name) -> Result<Greeting, Status> {
        Ok(Greeting { text: format!("Hello, {}!", name.name) })
    }

    async fn count(
        &self,
        _ctx: CallContext,
        up_to: Number,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        for value in 1..=up_to.value {
            sink.send(Number { value }).await?;
        }
        Ok(())
    }

    async fn sum(
        &self,
        _ctx: CallContext,
        mut numbers: RequestStream<Number>,
    ) -> Result<Number, Status> {
        let mut value = 0;
        while let Some(n) = numbers.message().await? {
            value += n.value;
        }
        Ok(Number { value })
    }

    async fn double(
        &self,
        _ctx: CallContext,
        mut numbers: RequestStream<Number>,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        while let Some(n) = numbers.message().await? {
            sink.send(Number { value: 2 * n.value }).await?;
        }
        Ok(())
    }

    async fn sleep(&self, ctx: CallContext, seconds: Number) -> Result<Number, Status> {
        let secs = u64::try_from(seconds.value).unwrap_or(0);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(secs)) => Ok(seconds),
            () = ctx.cancelled() => Err(Status::cancelled("the client went away")),
        }
    }

    async fn follow(
        &self,
        ctx: CallContext,
        first: Number,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        sink.send(first).await?;
        ctx.cancelled().await;
        Err(Status::cancelled("the client went away"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?;
    let transcript = runtime.block_on(run())?;
    print!("{transcript}");
    Ok(())
}

/// Lets every task run until all of them wait: whatever was in flight is on the wire.
async fn settle() {
    // On a paused clock a sleep ends only once nothing else can run.
    tokio::time::sleep(Duration::from_millis(1)).await;
}

async fn run() -> Result<String, Box<dyn std::error::Error>> {
    // Both sides trace into one sink (the transcript matches its events to frames) and, with
    // H2GRPC_TRACE=1, to stderr as well.
    let sink = MemorySink::new();
    let also = Trace::from_env();
    let memory = sink.clone();
    let trace = Trace::new(move |event: &Event<'_>| {
        memory.event(event);
        also.event(event);
    });

    let server = Server::builder()
        .add_service(demo_server::service(DemoService))
        .trace(trace.clone())
        .build_unbound();
    let shutdown = server.shutdown_handle();
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let serving = tokio::spawn(server.serve_connection(server_io, Peer::Unknown));
    let tap = Tap::new(client_io);
    let mut out = Transcript::new(tap.log(), sink);

    let channel =
        Channel::builder("unix:/tmp/wiretap.sock")?.trace(trace).connect_with_io(tap).await?;
    let client = DemoClient::new(channel.clone());
    settle().await;
    out.intro();
    out.section(CONNECTION, "");

    let reply = client.greet(Name { name: "world".into() }, CallOptions::new()).await;
    settle().await;
    out.unary_records = out.section(UNARY, &outcome(reply.map(|r| r.into_inner())));

    let mut counted = Vec::new();
    let mut stream = client.count(Number { value: 3 }, CallOptions::new()).await?;
    while let Some(n) = stream.message().await? {
        counted.push(n.value);
    }
    settle().await;
    out.section(SERVER_STREAMING, &outcome(Ok::<_, Status>(counted)));

    let mut call = client.sum(CallOptions::new()).await?;
    for value in [1, 2, 3] {
        call.send(Number { value }).await?;
    }
    let reply = call.finish().await;
    settle().await;
    out.section(CLIENT_STREAMING, &outcome(reply.map(|r| r.into_inner())));

    let (mut requests, mut replies) = client.double(CallOptions::new()).await?;
    let mut doubled = Vec::new();
    for value in [5, 21] {
        requests.send(Number { value }).await?;
        doubled.push(replies.message().await?.map(|n| n.value));
    }
    requests.close().await?;
    let end = replies.message().await?;
    doubled.push(end.map(|n| n.value));
    settle().await;
    out.section(BIDI, &outcome(Ok::<_, Status>(doubled)));

    // 30 hours: long enough for the encoder to pick seconds, so that the header is the same
    // on every run (a shorter timeout is sent in finer units, and its digits vary by the
    // microseconds spent before the stream opened); the paused clock skips the wait.
    let options = CallOptions::new().timeout(Duration::from_secs(30 * 3600));
    let reply = client.sleep(Number { value: 40 * 3600 }, options).await;
    settle().await;
    out.section(DEADLINE, &outcome(reply.map(|r| r.into_inner())));

    let mut stream = client.follow(Number { value: 7 }, CallOptions::new()).await?;
    let first = stream.message().await?;
    drop(stream); // cancels the call
    settle().await;
    out.section(CANCEL, &outcome(Ok::<_, Status>(first)));

    // A method the server does not have, called through a typed handle.
    const MISSING: Method<Name, Greeting> = Method::new("/wiretap.v1.Demo/Missing");
    let reply = channel.unary(MISSING, Name::default(), CallOptions::new()).await;
    settle().await;
    out.section(UNIMPLEMENTED, &outcome(reply.map(|r| r.into_inner())));

    shutdown.shutdown();
    serving.await?;
    drop(client);
    drop(channel);
    settle().await;
    out.section(GOODBYE, "");
    out.trace_of_unary();
    out.outro();
    Ok(out.text)
}

fn outcome<T: std::fmt::Debug>(result: Result<T, Status>) -> String {
    match result {
        Ok(value) => format!("The client's call returned `Ok({value:?})`."),
        Err(status) => format!(
            "The client's call failed with `{}`: {:?}.",
            status.code().name(),
            status.message()
        ),
    }
}

/// Where a frame travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Wire {
    ToServer,
    ToClient,
}

/// Header blocks and messages: the two things the trace reports that frames carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Class {
    Headers,
    Message,
}

/// The trace records of one section, queued per stream, travel direction and class, for
/// the sender and the receiver apart.
struct Lookup {
    queues: HashMap<(u32, Wire, Class, bool), VecDeque<Recorded>>,
}

impl Lookup {
    fn new(records: Vec<Recorded>) -> Lookup {
        let mut queues: HashMap<_, VecDeque<_>> = HashMap::new();
        for record in records {
            let class = match record.kind {
                Kind::Message => Class::Message,
                Kind::RequestHeaders
                | Kind::ResponseHeaders
                | Kind::TrailersOnly
                | Kind::Trailers => Class::Headers,
                _ => continue,
            };
            let wire = match (record.side, record.direction) {
                (Side::Client, Direction::Send) | (Side::Server, Direction::Recv) => Wire::ToServer,
                _ => Wire::ToClient,
            };
            let received = record.direction == Direction::Recv;
            queues.entry((record.stream_id, wire, class, received)).or_default().push_back(record);
        }
        Lookup { queues }
    }

    /// The next record for a frame: as the receiver decoded it, or else as the sender sent it.
    fn next(&mut self, stream: u32, wire: Wire, class: Class) -> Option<Recorded> {
        let mut pop = |received| self.queues.get_mut(&(stream, wire, class, received))?.pop_front();
        let (received, sent) = (pop(true), pop(false));
        received.or(sent)
    }
}

/// The Markdown transcript, built section by section from what the tap and the trace saw.
struct Transcript {
    log: TapLog,
    sink: MemorySink,
    to_server: FrameReader,
    to_client: FrameReader,
    text: String,
    /// The trace records of the unary call, shown again at the end as the trace prints them.
    unary_records: Vec<Recorded>,
}

const INDENT: &str = "         ";

impl Transcript {
    fn new(log: TapLog, sink: MemorySink) -> Transcript {
        Transcript {
            log,
            sink,
            to_server: FrameReader::new(),
            to_client: FrameReader::new(),
            text: String::new(),
            unary_records: Vec::new(),
        }
    }

    fn intro(&mut self) {
        self.text.push_str(INTRO);
    }

    fn outro(&mut self) {
        self.text.push_str(OUTRO);
    }

    /// Everything exchanged since the previous section, under `heading` (a title, then prose).
    /// Returns the section's trace records.
    fn section(&mut self, heading: &str, outcome: &str) -> Vec<Recorded> {
        let chunks = self.log.take();
        let records = self.sink.take();
        let mut lookup = Lookup::new(records.clone());
        let _ = write!(self.text, "{}\n```text\n", heading.trim_start());
        for chunk in chunks {
            let (wire, reader) = match chunk.direction {
                Direction::Send => (Wire::ToServer, &mut self.to_server),
                Direction::Recv => (Wire::ToClient, &mut self.to_client),
            };
            reader.push(&chunk.bytes);
            let frames: Vec<Frame> = std::iter::from_fn(|| reader.next_frame()).collect();
            for frame in frames {
                render(&mut self.text, wire, &frame, &mut lookup);
            }
        }
        self.text.push_str("```\n");
        if !outcome.is_empty() {
            let _ = writeln!(self.text, "\n{outcome}");
        }
        self.text.push('\n');
        records
    }

    /// The unary call once more, as the call-level trace prints it.
    fn trace_of_unary(&mut self) {
        self.text.push_str(TRACE_OF_UNARY.trim_start());
        self.text.push_str("\n```text\n");
        for record in &self.unary_records {
            let _ = writeln!(self.text, "{record}");
        }
        self.text.push_str("```\n\n");
    }
}

/// One frame: its first line, the 9 header bytes, then what it carries.
fn render(out: &mut String, wire: Wire, frame: &Frame, lookup: &mut Lookup) {
    let arrow = match wire {
        Wire::ToServer => "C→S",
        Wire::ToClient => "S→C",
    };
    let shown = frame.to_string();
    let mut lines = shown.lines();
    let first = lines.next().unwrap_or_default();
    let head: Vec<String> = frame.head.iter().map(|b| format!("{b:02x}")).collect();
    if head.is_empty() {
        let _ = writeln!(out, "{arrow}  {first}"); // the preface: no frame header
    } else {
        let _ = writeln!(out, "{arrow}  {first:<60} {}", head.join(" "));
    }
    match &frame.payload {
        FramePayload::Headers { block, .. } => {
            let plural = if block.len() == 1 { "" } else { "s" };
            let _ = write!(out, "{INDENT}header block: {} byte{plural} of HPACK", block.len());
            match lookup.next(frame.stream_id, wire, Class::Headers) {
                Some(record) => {
                    let mut fields = record.text.lines();
                    let label = match fields.next().unwrap_or_default() {
                        "HEADERS (request)" => "request headers",
                        "HEADERS (response)" => "response headers",
                        "HEADERS (Trailers-Only)" => "Trailers-Only",
                        _ => "trailers",
                    };
                    let _ = writeln!(out, ", the {label}:");
                    for field in fields {
                        let _ = writeln!(out, "{INDENT}  {}", field.trim_start());
                    }
                }
                None => out.push('\n'),
            }
        }
        FramePayload::Data { messages, pending, .. } => {
            for message in messages {
                let _ = writeln!(out, "{INDENT}gRPC message {message}");
                let record = lookup.next(frame.stream_id, wire, Class::Message);
                if let Some(decoded) = record.as_ref().and_then(|r| r.text.lines().nth(1)) {
                    let _ = writeln!(out, "{INDENT}  = {}", decoded.trim_start());
                }
            }
            if *pending > 0 {
                let _ = writeln!(out, "{INDENT}({pending} bytes of a message so far)");
            }
            if messages.is_empty() && *pending == 0 {
                let _ =
                    writeln!(out, "{INDENT}(no data: the frame is there for its END_STREAM flag)");
            }
        }
        _ => {
            for line in lines {
                let _ = writeln!(out, "{INDENT}{}", line.trim_start());
            }
        }
    }
}

const INTRO: &str = r#"# The gRPC wire, frame by frame

This is every byte a gRPC client and server exchanged over one HTTP/2 connection while making
seven calls, decoded and annotated. It is the output of `cargo run --example wiretap`, and a
test (`tests/examples.rs`) checks that this file is exactly what the example prints today, so
it describes what h2grpc really sends. After a change to the wire:
`H2GRPC_BLESS=1 cargo test wiretap`, then read the diff.

How to read it:

- `C→S` is a frame the client sent to the server, `S→C` one the server sent to the client;
- after the frame's type, stream, flags and payload length come its 9 header bytes in hex:
  a 24-bit payload length, the type, the flags, and a 31-bit stream id;
- HEADERS frames carry an HPACK-compressed header block. The transcript shows its size, then
  its fields as the call-level trace reported them: those of the side that received the
  block, as its `h2` decoded them (or the sender's, if the receiver never read them);
- DATA frames carry gRPC's Length-Prefixed-Messages: a 1-byte Compressed-Flag, a 4-byte
  big-endian length, and the message, protobuf-encoded. Each is shown with its flag, its
  length and its first 16 bytes in hex, then (after `=`) as the program saw it.

The calls use the service in `proto/wiretap.proto`, package `wiretap.v1`:

```proto
service Demo {
  rpc Greet (Name) returns (Greeting);              // unary
  rpc Count (Number) returns (stream Number);       // server streaming: 1..=value
  rpc Sum (stream Number) returns (Number);         // client streaming
  rpc Double (stream Number) returns (stream Number); // bidirectional
  rpc Sleep (Number) returns (Number);              // answers after `value` seconds
  rpc Follow (Number) returns (stream Number);      // sends `value`, then waits
}
```

"#;

const CONNECTION: &str = r#"
## 1. Opening the connection

The client speaks first: the 24-byte connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
which no HTTP/1 server would take for a request, then its SETTINGS (the server's own SETTINGS
may arrive in between: neither side waits for the other's). gRPC needs nothing beyond
HTTP/2 here: h2grpc's client turns server push off (`ENABLE_PUSH = 0`), asks for 1 MiB stream
windows instead of HTTP/2's 64 KiB (`INITIAL_WINDOW_SIZE`), accepts frames of up to 256 KiB
instead of 16 KiB (`MAX_FRAME_SIZE`: a batch of streamed messages then travels as one DATA
frame, written with one syscall), and limits response header blocks to 16 KiB
(`MAX_HEADER_LIST_SIZE`). A WINDOW_UPDATE on stream 0 then raises the connection's
window from 65,535 bytes to 4 MiB: SETTINGS can only change stream windows.

The server answers with its own SETTINGS (notably `MAX_CONCURRENT_STREAMS = 1024`: calls
beyond that wait on the client; and `MAX_HEADER_LIST_SIZE = 131072`, 8 times its 16 KiB
metadata limit, so that a request over the limit reaches h2grpc and ends RESOURCE_EXHAUSTED
instead of being refused by `h2` with HTTP 431) and WINDOW_UPDATE, and each side acknowledges the other's
SETTINGS with an empty SETTINGS frame flagged ACK. h2grpc's client also sends a PING and waits
for its ACK before the channel is ready: the server sends its SETTINGS before it answers the
PING, so once the answer is in, the client knows the server's limits.
"#;

const UNARY: &str = r#"
## 2. A unary call: `Greet`

A call is an HTTP/2 stream; the client opens odd-numbered ones, starting at 1. The request
headers are a POST to `/package.Service/Method`, with `te: trailers` (required: it tells
proxies that trailers matter), `content-type: application/grpc` and the client's
`user-agent`. The pseudo-headers (`:method`, `:scheme`, `:authority`, `:path`) come first; over
a Unix socket the authority is `localhost`, as in grpc-go and C-core. This example is built
with the `compression` feature, so both sides also advertise the message encodings they decode
(`grpc-accept-encoding: identity,gzip,deflate`); nobody asks for compression here, so no
`grpc-encoding` is sent and every message goes with flag 0. The default build sends neither.

The request message follows in a DATA frame flagged END_STREAM: the client has nothing more to
send (a half-close). Its 5-byte prefix `00 00 00 00 07` says "not compressed, 7 bytes"; the 7
bytes are protobuf: field 1, length-delimited (`0a`), 5 bytes, `world`.

The server answers with response headers (`:status: 200` and `content-type`), the response
message, and trailers carrying the outcome: `grpc-status: 0` is OK. Trailers are a second
HEADERS frame; its END_STREAM flag ends the stream. Their HPACK block is small: `h2`'s encoder
refers to fields already sent on this connection by index, so repeated fields cost a byte or
two. Compare the size of the next calls' request headers with this one's.
"#;

const SERVER_STREAMING: &str = r#"
## 3. Server streaming: `Count` up to 3

Stream 3, the client's second. The client sends one request, as for a unary call; the server
sends its response headers, then any number of messages, then trailers. Here the three
messages are short enough to travel in one DATA frame: DATA frame boundaries have nothing to
do with message boundaries, and the receiver splits messages by their length prefixes. A
message that is longer than a frame spans several.
"#;

const CLIENT_STREAMING: &str = r#"
## 4. Client streaming: `Sum` of 1, 2, 3

The client sends each message in its own DATA frame as the program calls `send`, then
half-closes with an empty DATA frame flagged END_STREAM (a request has no trailers). The
server answers once, after the end of the requests. Note that the server's response headers
may wait until its first message: headers, message and trailers then leave together.
"#;

const BIDI: &str = r#"
## 5. Bidirectional streaming: `Double` 5, then 21

Both directions are open at once and independent; this client waits for each answer before
sending the next number, so requests and responses alternate. The server's response headers
go out with its first message. The client's half-close (an empty DATA frame with END_STREAM)
lets the server's handler see the end of the requests and finish with its trailers.
"#;

const DEADLINE: &str = r#"
## 6. A deadline exceeded: `Sleep` with a 30-hour timeout

A deadline travels as `grpc-timeout`, right after the pseudo-headers: the time left when the
stream opens, as at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`), the finest unit
that fits. 30 hours is 108,000 seconds: `108000S`. Both sides enforce it. The server asks to
sleep 40 hours, so the client's timer runs out first: it resets the stream with RST_STREAM
CANCEL (error code 8) and reports DEADLINE_EXCEEDED to the program; the server sees the reset
and its handler is cancelled. Nothing more is sent on the stream: no trailers follow a reset.

(The example runs on a paused clock: the 30 hours take no time, and the header is the same on
every run.)
"#;

const CANCEL: &str = r#"
## 7. A cancellation: `Follow`, dropped after the first message

The server sends one message and waits. The program drops the response stream after reading
that message: the client resets the stream with RST_STREAM CANCEL, which is how a gRPC client
cancels a call. The server's handler sees its call cancelled and ends; the server sends
nothing more on the stream.
"#;

const UNIMPLEMENTED: &str = r#"
## 8. An unknown method: UNIMPLEMENTED, as Trailers-Only

The client calls `/wiretap.v1.Demo/Missing`, a method the server does not have. The server
answers with a single HEADERS frame flagged END_STREAM that holds both `:status: 200` and
the status fields: a Trailers-Only response, used when a call fails before any message.
`grpc-status: 12` is UNIMPLEMENTED; `grpc-message` is percent-encoded UTF-8 (spaces and
printable ASCII stay as they are). Here the request had ended (END_STREAM) before the server
answered; had it still been open, the server would also close the request side with
RST_STREAM NO_ERROR (error code 0), the HTTP/2 way to say "stop sending, I have answered".
"#;

const GOODBYE: &str = r#"
## 9. Closing: GOAWAY

The server shuts down gracefully. Its first GOAWAY carries the largest possible
last-stream-id (2^31-1): "open no more streams; those in flight may finish". A PING follows:
after one round trip, no stream the client opened before seeing the GOAWAY can still be on
its way, and the server could send a final GOAWAY naming the last stream it processed (13).

This client has no call in flight, so it does not wait for that: it answers the PING, sends
its own GOAWAY (last stream 0: the server opened no streams) and closes the connection. The
server's final GOAWAY finds the connection gone and never reaches the wire. With calls in
flight, both sides would keep the connection until they finish.
"#;

const TRACE_OF_UNARY: &str = r#"
## The call-level trace

Without the tap, `Server::builder().trace(..)` and `ChannelBuilder::trace(..)` report each
call as both sides see it: the side, the stream, `→` for sent and `←` for received, then
what was sent or received. Here is the unary call of section 2 as this example's trace sink
recorded it, both sides interleaved in the order things happened. The server reports
headers as `h2` decoded them off the wire; the `=` line of trailers is the status they carry,
its message percent-decoded.
"#;

const OUTRO: &str = r#"## Seeing it yourself

- `H2GRPC_TRACE=1 cargo run --example streaming` prints the call-level trace of another
  example to stderr: each side's headers, messages (with `Debug`), trailers, resets and
  GOAWAY. In your own program: `Server::builder().trace(Trace::stderr())`,
  `Channel::builder(target)?.trace(Trace::from_env())`, or any `TraceSink`; with the
  `tracing` feature, `Trace::tracing()` turns the events into `tracing` events.
- `h2grpc::trace::Tap` records the raw bytes of any connection, and `h2grpc::trace::frames`
  decodes them, as this example does.
- `h2grpc call --wire TARGET pkg.Service/Method '{...}'` shows the same for any server,
  tonic, grpcio, grpc-js or h2grpc, over a Unix socket or TCP: every frame both ways, header
  blocks HPACK-decoded, each message decoded with the server's own schema (see
  [The h2grpc command](README.md#the-h2grpc-command)).
"#;
