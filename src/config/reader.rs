//! A typed walk over a parsed TOML document that keeps every value's position.
//!
//! serde stops at the first error; the project team fixing a config wants all of them at once,
//! each with its line. So the document is parsed once into toml's spanned tree and read here
//! key by key: every wrong type, bad value and unknown key becomes one [`ConfigError`], and
//! reading goes on.

use super::ConfigError;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Collects the errors of one file and turns byte offsets into line numbers.
pub struct Errors<'s> {
    pub file: PathBuf,
    source: &'s str,
    pub list: Vec<ConfigError>,
}

impl<'s> Errors<'s> {
    pub fn new(file: &Path, source: &'s str) -> Errors<'s> {
        Errors {
            file: file.to_path_buf(),
            source,
            list: Vec::new(),
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    pub fn push(&mut self, offset: usize, key: &str, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.list.push(ConfigError {
            file: self.file.clone(),
            line,
            key: key.to_string(),
            message: message.into(),
        });
    }
}

/// One table being read: remembers which keys were asked for, so the rest are reported as
/// unknown when [`Section::finish`] is called.
pub struct Section<'a, 'i> {
    /// The dotted path of this table ("mailbox", "partnership[2]").
    pub path: String,
    table: Option<&'a DeTable<'i>>,
    /// Where the table starts, for errors about a key that is missing.
    pub offset: usize,
    known: Vec<&'static str>,
}

impl<'a, 'i> Section<'a, 'i> {
    pub fn new(path: impl Into<String>, table: Option<&'a DeTable<'i>>, offset: usize) -> Self {
        Section {
            path: path.into(),
            table,
            offset,
            known: Vec::new(),
        }
    }

    /// Whether the table was present in the file at all.
    pub fn present(&self) -> bool {
        self.table.is_some()
    }

    /// The full key for messages ("mailbox.port").
    pub fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The raw value of `name`, marking it known.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.known.push(name);
        self.table?
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == name)
            .map(|(_, v)| v)
    }

    /// A sub-table (`[round]` inside the document), as a section of its own.
    pub fn table(&mut self, name: &'static str, errors: &mut Errors) -> Section<'a, 'i> {
        let key = self.key(name);
        match self.raw(name) {
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Section::new(key, Some(t), v.span().start),
                other => {
                    errors.push(
                        v.span().start,
                        &key,
                        format!("expected a table, found {}", other.type_str()),
                    );
                    Section::new(key, None, v.span().start)
                }
            },
            None => Section::new(key, None, self.offset),
        }
    }

    /// A string value; a wrong type is an error.
    pub fn string(&mut self, name: &'static str, errors: &mut Errors) -> Option<Spanned<String>> {
        let key = self.key(name);
        let v = self.raw(name)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(v.span(), s.to_string())),
            other => {
                errors.push(
                    v.span().start,
                    &key,
                    format!("expected a string, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A string that must be present.
    pub fn required_string(
        &mut self,
        name: &'static str,
        errors: &mut Errors,
    ) -> Option<Spanned<String>> {
        let got = self.string(name, errors);
        if got.is_none() && self.raw(name).is_none() {
            errors.push(self.offset, &self.key(name), "is required");
        }
        got
    }

    /// A non-negative integer within `max`.
    pub fn uint(&mut self, name: &'static str, max: u64, errors: &mut Errors) -> Option<u64> {
        let key = self.key(name);
        let v = self.raw(name)?;
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            other => {
                errors.push(
                    v.span().start,
                    &key,
                    format!("expected a whole number, found {}", other.type_str()),
                );
                return None;
            }
        };
        match parsed {
            Some(n) if n <= max => Some(n),
            _ => {
                errors.push(
                    v.span().start,
                    &key,
                    format!("must be a whole number from 0 to {max}"),
                );
                None
            }
        }
    }

    pub fn bool(&mut self, name: &'static str, errors: &mut Errors) -> Option<bool> {
        let key = self.key(name);
        let v = self.raw(name)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                errors.push(
                    v.span().start,
                    &key,
                    format!("expected true or false, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// An array of strings (`to = ["a@b"]`).
    pub fn strings(
        &mut self,
        name: &'static str,
        errors: &mut Errors,
    ) -> Option<Vec<Spanned<String>>> {
        let key = self.key(name);
        let v = self.raw(name)?;
        let DeValue::Array(items) = v.get_ref() else {
            errors.push(
                v.span().start,
                &key,
                format!(
                    "expected a list of strings, found {}",
                    v.get_ref().type_str()
                ),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                other => errors.push(
                    item.span().start,
                    &key,
                    format!("expected a string, found {}", other.type_str()),
                ),
            }
        }
        Some(out)
    }

    /// A string that must be one of `choices`.
    pub fn choice(
        &mut self,
        name: &'static str,
        choices: &[&'static str],
        errors: &mut Errors,
    ) -> Option<&'static str> {
        let key = self.key(name);
        let s = self.string(name, errors)?;
        match choices.iter().find(|c| **c == s.get_ref().as_str()) {
            Some(c) => Some(c),
            None => {
                errors.push(
                    s.span().start,
                    &key,
                    format!(
                        "{:?} is not one of {}",
                        s.get_ref(),
                        choices
                            .iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        }
    }

    /// Reports every key of the table that was never asked for.
    pub fn finish(self, errors: &mut Errors) {
        let Some(table) = self.table else { return };
        for (k, _) in table.iter() {
            let name = k.get_ref().as_ref();
            if !self.known.contains(&name) {
                let expected = if self.known.is_empty() {
                    String::new()
                } else {
                    let mut known = self.known.clone();
                    known.sort();
                    known.dedup();
                    format!(" (known keys: {})", known.join(", "))
                };
                errors.push(
                    k.span().start,
                    &self.key(name),
                    format!("unknown key{expected}"),
                );
            }
        }
    }
}

/// Parses a file into its spanned tree, or one error at the syntax fault.
pub fn parse<'i>(source: &'i str, errors: &mut Errors) -> Option<Spanned<DeTable<'i>>> {
    match DeTable::parse(source) {
        Ok(t) => Some(t),
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            errors.push(
                offset,
                "",
                format!("not valid TOML: {}", e.message().trim()),
            );
            None
        }
    }
}

/// A path from the config, relative to the folder of the file that names it.
pub fn relative_to(file: &Path, value: &str) -> PathBuf {
    let p = Path::new(value);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    file.parent().unwrap_or(Path::new(".")).join(p)
}
