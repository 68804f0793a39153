//! The command-line tool of the `daemon` example: calls it over its Unix socket.
//!
//! ```sh
//! daemonctl /tmp/demo.sock whoami       # uid 1000 pid 4242; served by pid 4200
//! daemonctl /tmp/demo.sock work 2000    # started, then: done after 2000 ms
//! ```
//!
//! A failed call prints its status and exits 1.

use h2grpc::{CallOptions, Channel};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [socket, "whoami"] => whoami(socket).await,
        [socket, "work", millis] => match millis.parse() {
            Ok(millis) => work(socket, millis).await,
            Err(_) => Err(format!("work {millis}: not a number of milliseconds").into()),
        },
        _ => Err("usage: daemonctl SOCKET (whoami | work MILLIS)".into()),
    };
    if let Err(err) = result {
        eprintln!("daemonctl: {err}");
        std::process::exit(1);
    }
}

async fn connect(socket: &str) -> Result<Channel, h2grpc::Error> {
    Channel::connect(&format!("unix:{socket}")).await
}

async fn whoami(socket: &str) -> Result<(), Box<dyn std::error::Error>> {
    let channel = connect(socket).await?;
    let reply: String =
        channel.unary("/demo.v1.Daemon/Whoami", &(), CallOptions::new()).await?.into_inner();
    println!("{reply}");
    Ok(())
}

async fn work(socket: &str, millis: u32) -> Result<(), Box<dyn std::error::Error>> {
    let channel = connect(socket).await?;
    let mut progress = channel
        .server_streaming::<u32, String>("/demo.v1.Daemon/Work", &millis, CallOptions::new())
        .await?;
    while let Some(line) = progress.message().await? {
        println!("{line}");
    }
    Ok(())
}
