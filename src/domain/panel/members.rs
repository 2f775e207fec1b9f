//! Panel members and their bearer tokens (`panel.tokens_file`). Only a token's SHA-256 is kept;
//! a presented token is hashed and compared with every member's hash in constant time, so
//! neither the file nor the timing gives a token away.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a member may do: `panel` reviews and decides; `team` also corrects, releases and
/// sends digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Panel,
    Team,
}

/// A partnership or a region a member must not review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    Partnership(String),
    Region(String),
}

impl Conflict {
    /// `"swindon"` or `"region:South West"`.
    pub fn parse(s: &str) -> Conflict {
        match s.strip_prefix("region:") {
            Some(r) => Conflict::Region(r.trim().to_string()),
            None => Conflict::Partnership(s.trim().to_ascii_lowercase()),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Conflict::Partnership(p) => p.clone(),
            Conflict::Region(r) => format!("region:{r}"),
        }
    }

    /// Whether this conflict covers a partnership (its id and region).
    pub fn covers(&self, partnership: &str, region: Option<&str>) -> bool {
        match self {
            Conflict::Partnership(p) => p.eq_ignore_ascii_case(partnership),
            Conflict::Region(r) => region.is_some_and(|g| g.eq_ignore_ascii_case(r)),
        }
    }
}

/// One member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub role: Role,
    pub token_sha256: [u8; 32],
    pub conflicts: Vec<Conflict>,
}

impl Member {
    /// Whether the member must not review this partnership.
    pub fn conflicted(&self, partnership: &str, region: Option<&str>) -> bool {
        self.conflicts.iter().any(|c| c.covers(partnership, region))
    }
}

/// The hex SHA-256 of a token, as the tokens file holds it.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The member this bearer token belongs to, if any. Every member's hash is compared (in
/// constant time), whatever matched first.
pub fn authenticate<'a>(members: &'a [Member], token: &str) -> Option<&'a Member> {
    let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for m in members {
        if bool::from(m.token_sha256.ct_eq(&presented)) && found.is_none() {
            found = Some(m);
        }
    }
    found
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    member: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: Role,
    token_sha256: String,
    #[serde(default)]
    conflicts: Vec<String>,
}

/// Why a tokens file was refused.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// TOML or a field is wrong; the message carries the line.
    #[error("{0}")]
    Syntax(String),
    #[error("member {index} ({name}): {message}")]
    Member {
        index: usize,
        name: String,
        message: String,
    },
}

/// Reads a tokens file's text.
pub fn parse(text: &str) -> Result<Vec<Member>, MembersError> {
    let file: File = toml::from_str(text).map_err(|e| MembersError::Syntax(e.to_string()))?;
    let mut out: Vec<Member> = Vec::new();
    for (i, e) in file.member.into_iter().enumerate() {
        let bad = |message: String| MembersError::Member {
            index: i + 1,
            name: e.name.clone(),
            message,
        };
        let bytes = hex::decode(e.token_sha256.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| bad("token_sha256 must be 64 hex digits (a SHA-256)".into()))?;
        if e.name.trim().is_empty() {
            return Err(bad("the name is empty".into()));
        }
        if out.iter().any(|m| m.token_sha256 == bytes) {
            return Err(bad("the same token as another member".into()));
        }
        out.push(Member {
            name: e.name.trim().to_string(),
            role: e.role,
            token_sha256: bytes,
            conflicts: e.conflicts.iter().map(|c| Conflict::parse(c)).collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> String {
        format!(
            "[[member]]\nname = \"A. Panel\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\nconflicts = [\"swindon\", \"region:South West\"]\n\n[[member]]\nname = \"T. Team\"\nrole = \"team\"\ntoken_sha256 = \"{}\"\n",
            token_hash("alpha-token"),
            token_hash("team-token")
        )
    }

    #[test]
    fn a_token_finds_its_member_and_nothing_else_does() {
        let members = parse(&file()).unwrap();
        assert_eq!(
            authenticate(&members, "alpha-token").unwrap().name,
            "A. Panel"
        );
        assert_eq!(
            authenticate(&members, "team-token").unwrap().role,
            Role::Team
        );
        assert!(authenticate(&members, "alpha-token ").is_none());
        assert!(authenticate(&members, "").is_none());
    }

    #[test]
    fn conflicts_cover_partnerships_and_regions() {
        let members = parse(&file()).unwrap();
        let a = &members[0];
        assert!(a.conflicted("swindon", None));
        assert!(a.conflicted("SWINDON", None));
        assert!(a.conflicted("bristol", Some("South West")));
        assert!(!a.conflicted("oxfordshire", Some("South East")));
    }

    #[test]
    fn a_bad_file_is_refused_with_where() {
        let e = parse("[[member]]\nname = \"x\"\nrole = \"boss\"\ntoken_sha256 = \"00\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        let e = parse("[[member]]\nname = \"x\"\nrole = \"panel\"\ntoken_sha256 = \"00\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("member 1 (x): token_sha256"), "{e}");
        let e = parse("[[member]]\nname = \"x\"\nrole = \"panel\"\ntoken = \"00\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
