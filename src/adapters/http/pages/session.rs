//! Signed-in sessions for the pages: a random id in an HttpOnly, SameSite=Strict cookie, kept in
//! memory with the member's token hash (so a token removed from the tokens file ends its
//! sessions at the next request), a CSRF token every form carries, and an expiry
//! (`panel.session_hours`). A restart signs everyone out, which is the safe side.

use std::collections::HashMap;
use std::sync::Mutex;

pub const COOKIE: &str = "yjsend_session";

#[derive(Debug, Clone)]
pub struct Session {
    pub token_sha256: [u8; 32],
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Sessions {
    /// Starts a session; returns its id.
    pub fn start(&self, token_sha256: [u8; 32], now: i64, hours: u64) -> String {
        let id = random_hex();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires_at > now);
        map.insert(
            id.clone(),
            Session {
                token_sha256,
                csrf: random_hex(),
                expires_at: now + hours as i64 * 3600,
            },
        );
        id
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).filter(|s| s.expires_at > now).cloned()
    }

    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// The session id from a Cookie header.
pub fn cookie_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Constant-time comparison of a submitted CSRF token with the session's.
pub fn csrf_ok(session: &Session, submitted: &str) -> bool {
    use subtle::ConstantTimeEq;
    session.csrf.len() == submitted.len()
        && bool::from(session.csrf.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let id = s.start([1; 32], 100, 1);
        assert!(s.get(&id, 200).is_some());
        assert!(s.get(&id, 100 + 3600).is_none());
        let id = s.start([1; 32], 100, 1);
        s.end(&id);
        assert!(s.get(&id, 101).is_none());
    }

    #[test]
    fn csrf_must_match_exactly() {
        let s = Sessions::default();
        let id = s.start([1; 32], 0, 1);
        let session = s.get(&id, 1).unwrap();
        assert!(csrf_ok(&session, &session.csrf.clone()));
        assert!(!csrf_ok(&session, "forged"));
        assert!(!csrf_ok(&session, ""));
    }
}
