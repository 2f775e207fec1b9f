//! The wording of everything people read, as minijinja templates the project team can edit
//! without a rebuild: `config/templates/*.j2` next to the configuration. A template missing
//! from that folder falls back to the built-in copy (the same files, compiled in), so a
//! partial folder still works. Edits are picked up while the daemon runs: before each use the
//! files' modification times are checked, and a changed set is loaded and test-rendered first,
//! so a broken edit is logged and the previous wording stays in use instead of failing replies.

use minijinja::Environment;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// The templates, by file name, with their built-in text.
pub const TEMPLATES: [(&str, &str); 5] = [
    (
        "reply.txt.j2",
        include_str!("../../config/templates/reply.txt.j2"),
    ),
    (
        "reply.html.j2",
        include_str!("../../config/templates/reply.html.j2"),
    ),
    (
        "digest.txt.j2",
        include_str!("../../config/templates/digest.txt.j2"),
    ),
    (
        "digest.html.j2",
        include_str!("../../config/templates/digest.html.j2"),
    ),
    (
        "outcome.txt.j2",
        include_str!("../../config/templates/outcome.txt.j2"),
    ),
];

/// Template fuel: bounds a template's work (a runaway loop in an edit cannot hang replies).
const FUEL: u64 = 2_000_000;

#[derive(Debug, thiserror::Error)]
pub enum WordingError {
    #[error("{file}: {message}")]
    Template { file: String, message: String },
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
}

fn template_error(file: &str, e: &minijinja::Error) -> WordingError {
    let mut message = e.to_string();
    if let Some(line) = e.line() {
        message = format!("line {line}: {message}");
    }
    WordingError::Template {
        file: file.to_string(),
        message,
    }
}

/// A loaded set of templates.
struct Loaded {
    env: Environment<'static>,
    /// Modification times of the files read from the folder (None: built-in).
    stamps: Vec<Option<SystemTime>>,
}

/// The wording, reloaded when its files change.
pub struct Wording {
    dir: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

fn stamps(dir: Option<&Path>) -> Vec<Option<SystemTime>> {
    TEMPLATES
        .iter()
        .map(|(name, _)| {
            dir.and_then(|d| std::fs::metadata(d.join(name)).ok())
                .and_then(|m| m.modified().ok())
        })
        .collect()
}

fn load(dir: Option<&Path>) -> Result<Loaded, WordingError> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| template_error("syntax", &e))?,
    );
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Column alignment for the plain-text parts.
    env.add_filter("ljust", |v: minijinja::Value, width: usize| {
        format!("{:<width$}", v.to_string())
    });
    env.add_filter("rjust", |v: minijinja::Value, width: usize| {
        format!("{:>width$}", v.to_string())
    });
    env.set_fuel(Some(FUEL));
    let stamps = stamps(dir);
    for ((name, builtin), stamp) in TEMPLATES.iter().zip(&stamps) {
        let source = match (dir, stamp) {
            (Some(d), Some(_)) => std::fs::read_to_string(d.join(name))
                .map_err(|e| WordingError::Read(d.join(name), e))?,
            _ => builtin.to_string(),
        };
        env.add_template_owned(name.to_string(), source)
            .map_err(|e| template_error(name, &e))?;
    }
    let loaded = Loaded { env, stamps };
    check(&loaded.env)?;
    Ok(loaded)
}

/// Renders every template against the samples: what `config check` and a reload run.
fn check(env: &Environment<'static>) -> Result<(), WordingError> {
    for sample in super::samples::replies() {
        for name in ["reply.txt.j2", "reply.html.j2"] {
            render_in(env, name, &sample)?;
        }
    }
    let digest = super::samples::digest();
    for name in ["digest.txt.j2", "digest.html.j2"] {
        render_in(env, name, &digest)?;
    }
    for outcome in super::samples::outcomes() {
        render_in(env, "outcome.txt.j2", &outcome)?;
    }
    Ok(())
}

fn render_in<T: Serialize>(
    env: &Environment<'static>,
    name: &str,
    ctx: &T,
) -> Result<String, WordingError> {
    let t = env
        .get_template(name)
        .map_err(|e| template_error(name, &e))?;
    t.render(minijinja::value::Serde(ctx))
        .map_err(|e| template_error(name, &e))
}

impl Wording {
    /// The built-in wording only.
    pub fn builtin() -> Wording {
        Wording {
            dir: None,
            loaded: Mutex::new(load(None).expect("the built-in templates render")),
        }
    }

    /// The wording in `dir` (templates missing there fall back to the built-in ones). Fails
    /// with file, line and message when a template does not parse or render.
    pub fn open(dir: &Path) -> Result<Wording, WordingError> {
        Ok(Wording {
            dir: Some(dir.to_path_buf()),
            loaded: Mutex::new(load(Some(dir))?),
        })
    }

    /// Renders `name` (e.g. "reply.txt.j2") with `ctx`, after reloading changed files.
    pub fn render<T: Serialize>(&self, name: &str, ctx: &T) -> Result<String, WordingError> {
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(dir) = &self.dir
            && stamps(Some(dir)) != loaded.stamps
        {
            match load(Some(dir)) {
                Ok(fresh) => {
                    tracing::info!(dir = %dir.display(), "Wording reloaded.");
                    *loaded = fresh;
                }
                Err(e) => {
                    tracing::error!(error = %e, "The edited wording does not render; keeping the previous wording.");
                    // Do not try again until the files change once more.
                    loaded.stamps = stamps(Some(dir));
                }
            }
        }
        render_in(&loaded.env, name, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_templates_render_every_sample() {
        let w = Wording::builtin();
        for sample in crate::compose::samples::replies() {
            let text = w.render("reply.txt.j2", &sample).unwrap();
            assert!(text.contains(&sample.reference), "{text}");
            let html = w.render("reply.html.j2", &sample).unwrap();
            assert!(html.contains(&sample.reference));
        }
    }

    #[test]
    fn an_edit_is_picked_up_and_a_broken_edit_keeps_the_previous_wording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reply.txt.j2");
        std::fs::write(&path, "Version one {{ reference }}").unwrap();
        let w = Wording::open(dir.path()).unwrap();
        let sample = &crate::compose::samples::replies()[0];
        assert!(
            w.render("reply.txt.j2", sample)
                .unwrap()
                .starts_with("Version one")
        );
        // A later modification time, as an editor's save gives.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(&path, "Version two {{ reference }}").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(
            w.render("reply.txt.j2", sample)
                .unwrap()
                .starts_with("Version two")
        );
        std::fs::write(&path, "Broken {{ reference ").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(
            w.render("reply.txt.j2", sample)
                .unwrap()
                .starts_with("Version two")
        );
    }

    #[test]
    fn a_broken_template_is_refused_with_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reply.html.j2"), "<p>\n{{ headline }\n</p>").unwrap();
        let e = Wording::open(dir.path()).err().expect("refused");
        let text = e.to_string();
        assert!(text.starts_with("reply.html.j2: line 2"), "{text}");
        // An unknown name is an error too (strict), not a silent blank in a reply.
        std::fs::write(dir.path().join("reply.html.j2"), "{{ no_such_field }}").unwrap();
        assert!(Wording::open(dir.path()).is_err());
    }
}
