//! HTML bodies: tables pasted from Excel or Word, and the text for body grids.
//!
//! Outlook wraps every cell in `<p class=MsoNormal>` and spans; only the text matters, so
//! cells are reduced to their whitespace-collapsed text.

use crate::domain::table::Table;
use ego_tree::NodeRef;
use scraper::{Html, Node};

/// Documents larger than this are cut before parsing (a body is never this big).
const MAX_HTML: usize = 8 * 1024 * 1024;
const MAX_ROWS: usize = 10_000;

fn parse(html: &str) -> Html {
    let cut = if html.len() > MAX_HTML {
        let mut end = MAX_HTML;
        while !html.is_char_boundary(end) {
            end -= 1;
        }
        &html[..end]
    } else {
        html
    };
    Html::parse_document(cut)
}

fn element_name<'a>(node: &'a NodeRef<'a, Node>) -> Option<&'a str> {
    match node.value() {
        Node::Element(e) => Some(e.name()),
        _ => None,
    }
}

/// The text of a node, whitespace collapsed.
fn text_of(node: NodeRef<Node>) -> String {
    let mut raw = String::new();
    for d in node.descendants() {
        match d.value() {
            Node::Text(t) => raw.push_str(t),
            Node::Element(e) if e.name() == "br" || e.name() == "p" => raw.push(' '),
            _ => {}
        }
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows of one table, not descending into tables nested in it.
fn rows<'a>(node: NodeRef<'a, Node>, out: &mut Vec<NodeRef<'a, Node>>, depth: u32) {
    if depth > 64 || out.len() >= MAX_ROWS {
        return;
    }
    for child in node.children() {
        match element_name(&child) {
            Some("table") => {}
            Some("tr") => out.push(child),
            _ => rows(child, out, depth + 1),
        }
    }
}

/// A colspan or rowspan attribute, within sane bounds.
fn span(v: Option<&str>) -> usize {
    v.and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 50)
}

/// Every `<table>` in the document as a [`Table`] (named "table 1", "table 2" …).
pub fn tables(html: &str) -> Vec<Table> {
    let doc = parse(html);
    let mut out = Vec::new();
    for node in doc.tree.root().descendants() {
        if element_name(&node) != Some("table") {
            continue;
        }
        let mut trs = Vec::new();
        rows(node, &mut trs, 0);
        let mut matrix: Vec<Vec<String>> = Vec::new();
        // Columns still covered by a cell above (rowspan): column → rows left.
        let mut covered: Vec<usize> = Vec::new();
        for tr in trs {
            let mut row: Vec<String> = Vec::new();
            let mut col = 0usize;
            let skip_covered = |col: &mut usize, row: &mut Vec<String>, covered: &[usize]| {
                while covered.get(*col).is_some_and(|&n| n > 0) {
                    row.push(String::new());
                    *col += 1;
                }
            };
            for cell in tr.children() {
                let Some(name) = element_name(&cell) else {
                    continue;
                };
                if name != "td" && name != "th" {
                    continue;
                }
                skip_covered(&mut col, &mut row, &covered);
                let (colspan, rowspan) = match cell.value() {
                    Node::Element(e) => (span(e.attr("colspan")), span(e.attr("rowspan"))),
                    _ => (1, 1),
                };
                row.push(text_of(cell));
                for _ in 1..colspan {
                    row.push(String::new());
                }
                if covered.len() < col + colspan {
                    covered.resize(col + colspan, 0);
                }
                for c in covered.iter_mut().skip(col).take(colspan) {
                    // Counted down at the end of this row, so a rowspan of 2 covers one more.
                    *c = (*c).max(rowspan);
                }
                col += colspan;
            }
            skip_covered(&mut col, &mut row, &covered);
            for c in covered.iter_mut() {
                *c = c.saturating_sub(1);
            }
            matrix.push(row);
        }
        if matrix.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
            out.push(Table::from_text_rows(
                format!("table {}", out.len() + 1),
                &matrix,
            ));
        }
    }
    out
}

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "blockquote",
    "pre",
    "hr",
    "ul",
    "ol",
    "section",
    "article",
    "header",
    "footer",
];

fn walk(node: NodeRef<Node>, out: &mut String, depth: u32) {
    if depth > 256 {
        return;
    }
    match node.value() {
        Node::Text(t) => out.push_str(t),
        Node::Element(e) => {
            let name = e.name();
            if matches!(name, "script" | "style" | "head" | "title" | "template") {
                return;
            }
            let block = BLOCKS.contains(&name);
            if block {
                out.push('\n');
            }
            for child in node.children() {
                walk(child, out, depth + 1);
                if matches!(element_name(&child), Some("td" | "th")) {
                    out.push('\t');
                }
            }
            if block {
                out.push('\n');
            }
        }
        _ => {
            for child in node.children() {
                walk(child, out, depth + 1);
            }
        }
    }
}

/// The visible text of an HTML document, one block per line (table cells separated by tabs).
pub fn to_text(html: &str) -> String {
    let doc = parse(html);
    let mut raw = String::new();
    walk(doc.tree.root(), &mut raw, 0);
    raw.lines()
        .map(|l| {
            l.split('\t')
                .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlook_tables_become_cells() {
        let html = r#"<html><head><style>p {}</style></head><body><p class=MsoNormal>Scores<o:p></o:p></p>
        <table class=MsoTableGrid><tr><td><p class=MsoNormal><span>Key&nbsp;Statement</span></p></td><td colspan=2><p>Score</p></td><td>x</td></tr>
        <tr><td><p>4a</p></td><td>7</td></tr><tr><td>nested<table><tr><td>inner</td></tr></table></td></tr></table></body></html>"#;
        let t = tables(html);
        assert_eq!(t.len(), 2);
        let cells: Vec<(String, String)> = t[0]
            .cells
            .iter()
            .map(|c| (c.a1(), c.value.to_text()))
            .collect();
        assert_eq!(cells[0], ("A1".into(), "Key Statement".into()));
        assert_eq!(cells[1], ("B1".into(), "Score".into()));
        assert_eq!(cells[2], ("D1".into(), "x".into()));
        assert_eq!(cells[3], ("A2".into(), "4a".into()));
        assert_eq!(t[1].name, "table 2");
    }

    #[test]
    fn rowspans_keep_later_cells_in_their_columns() {
        let html = "<table><tr><td rowspan=2>4</td><td>a</td><td>7</td></tr><tr><td>b</td><td>6</td></tr><tr><td>5</td><td></td><td>8</td></tr></table>";
        let t = tables(html);
        let cells: Vec<(String, String)> = t[0]
            .cells
            .iter()
            .map(|c| (c.a1(), c.value.to_text()))
            .collect();
        assert_eq!(
            cells,
            vec![
                ("A1".into(), "4".into()),
                ("B1".into(), "a".into()),
                ("C1".into(), "7".into()),
                ("B2".into(), "b".into()),
                ("C2".into(), "6".into()),
                ("A3".into(), "5".into()),
                ("C3".into(), "8".into()),
            ]
        );
    }

    #[test]
    fn text_keeps_lines_and_drops_styles() {
        let html = "<style>.a{}</style><div>Statement 1: 7</div><p>Statement&nbsp;2:<br>6</p><table><tr><td>3</td><td>7</td></tr></table>";
        assert_eq!(to_text(html), "Statement 1: 7\nStatement 2:\n6\n3\t7");
    }
}
