//! The socketioxide peer as a stand-alone server for benchmarks
//! (`scripts/bench-client.sh`): prints `LISTENING <port>`, serves until
//! killed. Single-threaded, like the Node server it stands beside.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark helper: failing loudly is right

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = pushdesk_e2e::SioxServer::start()
            .await
            .expect("server starts");
        println!("LISTENING {}", server.port());
        std::future::pending::<()>().await;
    });
}
