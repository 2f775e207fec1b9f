//! Cloud-storage links sent in place of the file (OneDrive, SharePoint, Google Drive, Dropbox,
//! WeTransfer, Box): we cannot open them, so the reply asks for the file itself.

use regex::Regex;
use std::sync::LazyLock;

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)https?://[^\s<>"'\]\[]+"#).expect("valid regex"));

fn is_share_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    let ends = |d: &str| h == d || h.ends_with(&format!(".{d}"));
    ends("sharepoint.com")
        || ends("onedrive.live.com")
        || ends("1drv.ms")
        || ends("drive.google.com")
        || ends("docs.google.com")
        || ends("dropbox.com")
        || ends("wetransfer.com")
        || ends("we.tl")
        || ends("box.com")
        || ends("sharefile.com")
}

/// The share links found in `text`, in order, without repeats.
pub fn share_links(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in URL.find_iter(text) {
        let url = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', ')', '>', '!', '?']);
        let host = url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .unwrap_or("");
        let host = host
            .rsplit('@')
            .next()
            .unwrap_or(host)
            .split(':')
            .next()
            .unwrap_or(host);
        if is_share_host(host) && !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_links_are_found() {
        let t = "Grid here: https://oxon-my.sharepoint.com/:x:/g/personal/abc?e=1. Also (https://1drv.ms/x/s!AbC) and https://www.gov.uk/x and https://drive.google.com/file/d/1/view, again https://1drv.ms/x/s!AbC";
        assert_eq!(
            share_links(t),
            vec![
                "https://oxon-my.sharepoint.com/:x:/g/personal/abc?e=1",
                "https://1drv.ms/x/s!AbC",
                "https://drive.google.com/file/d/1/view"
            ]
        );
        assert!(share_links("see https://evilsharepoint.com.example/x").is_empty());
    }
}
