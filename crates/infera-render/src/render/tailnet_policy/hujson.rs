//! A small HuJSON writer: JSON with `//` comments and trailing commas, two-space indentation,
//! only ASCII, lines wrapped at [`MAX_WIDTH`] columns.

/// Lines longer than this are wrapped (comments) or broken up (arrays).
pub(super) const MAX_WIDTH: usize = 100;

/// A HuJSON value.
pub(super) enum Node {
    /// A string.
    Str(String),
    /// An array (its items have no key).
    Array(Vec<Item>),
    /// An object (its items have keys), written in the given order.
    Object(Vec<Item>),
}

/// A member of an array or an object, with the comment lines written above it.
pub(super) struct Item {
    /// Comment paragraphs, each written as `//` lines wrapped at [`MAX_WIDTH`], separated by an
    /// empty `//` line.
    comments: Vec<String>,
    /// The key, in an object.
    key: Option<String>,
    /// The value.
    value: Node,
}

impl Item {
    /// An array element.
    pub(super) fn new(value: Node) -> Self {
        Self {
            comments: Vec::new(),
            key: None,
            value,
        }
    }

    /// An object member.
    pub(super) fn field(key: impl Into<String>, value: Node) -> Self {
        Self {
            comments: Vec::new(),
            key: Some(key.into()),
            value,
        }
    }

    /// Adds a comment paragraph above the item.
    pub(super) fn comment(mut self, text: &str) -> Self {
        self.comments.push(text.to_owned());
        self
    }
}

/// An array of strings.
pub(super) fn strings<S: ToString>(values: impl IntoIterator<Item = S>) -> Node {
    Node::Array(
        values
            .into_iter()
            .map(|value| Item::new(Node::Str(value.to_string())))
            .collect(),
    )
}

/// Writes `node` at the end of `out`, whose last line is indented by `indent` spaces.
///
/// Objects are written one member per line. An array of strings is written on one line when it
/// fits in [`MAX_WIDTH`] columns, else one element per line. Every member of a multi-line
/// container ends with a comma (HuJSON allows the trailing one); a commented member other than
/// the first, and every top-level member, is preceded by an empty line.
pub(super) fn write_node(out: &mut String, node: &Node, indent: usize) {
    let (open, close, items) = match node {
        Node::Str(value) => {
            out.push_str(&quote(value));
            return;
        }
        Node::Array(items) => ('[', ']', items),
        Node::Object(items) => ('{', '}', items),
    };
    if items.is_empty() {
        out.push(open);
        out.push(close);
        return;
    }
    if let Some(inline) = inline_strings(node) {
        let column = out.len() - out.rfind('\n').map_or(0, |newline| newline + 1);
        // The line also gets a trailing comma.
        if column + inline.len() < MAX_WIDTH {
            out.push_str(&inline);
            return;
        }
    }
    out.push(open);
    out.push('\n');
    let inner = indent + 2;
    for (position, item) in items.iter().enumerate() {
        if position > 0 && (indent == 0 || !item.comments.is_empty()) {
            out.push('\n');
        }
        for (index, paragraph) in item.comments.iter().enumerate() {
            if index > 0 {
                out.push_str(&" ".repeat(inner));
                out.push_str("//\n");
            }
            push_comment(out, inner, paragraph);
        }
        out.push_str(&" ".repeat(inner));
        if let Some(key) = &item.key {
            out.push_str(&quote(key));
            out.push_str(": ");
        }
        write_node(out, &item.value, inner);
        out.push_str(",\n");
    }
    out.push_str(&" ".repeat(indent));
    out.push(close);
}

/// `["a", "b"]` for an array of uncommented strings.
fn inline_strings(node: &Node) -> Option<String> {
    let Node::Array(items) = node else {
        return None;
    };
    let values = items
        .iter()
        .map(|item| match &item.value {
            Node::Str(value) if item.comments.is_empty() => Some(quote(value)),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    Some(format!("[{}]", values.join(", ")))
}

/// Writes `text` as `//` comment lines indented by `indent`, wrapped at [`MAX_WIDTH`] columns
/// (a longer word gets a line of its own). Any non-ASCII character is written as `?`.
pub(super) fn push_comment(out: &mut String, indent: usize, text: &str) {
    let prefix = format!("{}//", " ".repeat(indent));
    let mut line = prefix.clone();
    for word in text.split_whitespace() {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > MAX_WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clone_from(&prefix);
        }
        line.push(' ');
        line.extend(word.chars().map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        }));
    }
    out.push_str(&line);
    out.push('\n');
}

/// A JSON string literal in ASCII: `"`, `\` and control characters escaped, and every non-ASCII
/// character written as `\uXXXX` (UTF-16 units).
pub(super) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}
