use pushdesk_e2e::*;
#[tokio::test]
async fn tmp_probe() {
    let s = SioxServer::start().await.unwrap();
    let n = NodePeer::start(NodeOptions::default()).await.unwrap();
    let f = FlaskSeed::start().await.unwrap();
    for (name, url, h) in [("siox", s.url(), true), ("node", n.url(), true), ("flask", f.url(), false)] {
        let mut c = tokio::process::Command::new("node");
        c.arg("probe.js").arg(&url).current_dir(node_peer_dir());
        if h { c.arg("--helpers"); }
        let o = c.output().await.unwrap();
        println!("{name}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
}
