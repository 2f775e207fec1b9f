//! systemd's readiness protocol (`Type=notify`): a datagram to `$NOTIFY_SOCKET` saying
//! `READY=1` once the daemon takes mail, and `STOPPING=1` when it begins to stop. Without the
//! variable (not under systemd) it does nothing.

/// Sends one notification; failures are ignored (systemd then times the start out, which is
/// the visible outcome we want).
pub fn notify(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        notify_to(&path, state);
    }
}

fn notify_to(path: &std::ffi::OsStr, state: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::net::UnixDatagram;
        let Ok(socket) = UnixDatagram::unbound() else {
            return;
        };
        let bytes = path.as_encoded_bytes();
        let sent = if let Some(name) = bytes.strip_prefix(b"@") {
            // An abstract socket (Linux).
            #[cfg(target_os = "linux")]
            {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
            }
            #[cfg(not(target_os = "linux"))]
            {
                let _ = name;
                Err(std::io::Error::other("abstract sockets need Linux"))
            }
        } else {
            socket.send_to(state.as_bytes(), std::path::Path::new(path))
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "Could not notify systemd.");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, state);
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn ready_reaches_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        super::notify_to(path.as_os_str(), "READY=1");
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }
}
