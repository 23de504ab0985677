//! A host llmscope does not intercept: its bytes go both ways untouched and unrecorded; only
//! the connection is counted.

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::address::authority;
use crate::proxy::ProxyState;

pub async fn tunnel(state: &ProxyState, mut client: TokioIo<Upgraded>, host: &str, port: u16) {
    state.forward_stats.tunnelled();
    let connect = TcpStream::connect(authority(host, port));
    let Ok(Ok(mut upstream)) = tokio::time::timeout(state.config.connect_timeout, connect).await
    else {
        // The client already has its 200; closing is how a tunnel says the far side is gone.
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
