//! The regular-expression engine behind `grep`, `sed` and `cut -F`: POSIX basic and
//! extended syntax (groups, alternation, `*` `+` `?` `{m,n}`, bracket expressions with
//! ranges and `[:class:]`, anchors, backreferences `\1`…`\9`) matched by bounded
//! backtracking, reporting where the match and each group are.
//!
//! - [`compile`]: pattern text into nodes, with bionic's `regerror` wording for
//!   malformed patterns;
//! - [`matcher`]: the matcher and its budgets.
//!
//! Deviation: the leftmost match is the first one backtracking finds (greedy
//! repetitions, alternatives in order), not POSIX's leftmost-*longest*; they differ
//! only for alternatives that are prefixes of one another (`a|ab`).

mod compile;
mod matcher;

/// A pattern node.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Char(char),
    Any,
    /// Inclusive ranges; negated with `[^…]`.
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    /// Group number (1-based; 0 is the whole pattern) and its alternatives.
    Group(usize, Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, usize),
    BackRef(usize),
}

/// Where the match (index 0) and each group matched, as char offsets `(start, end)`.
pub type Captures = Vec<Option<(usize, usize)>>;

/// Why a pattern is malformed, as bionic's `regerror` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    #[error("parentheses not balanced")]
    Paren,
    #[error("brackets ([ ]) not balanced")]
    Bracket,
    #[error("braces not balanced")]
    Brace,
    #[error("invalid repetition count(s)")]
    BadBrace,
    #[error("repetition-operator operand invalid")]
    BadRepeat,
    #[error("invalid backreference number")]
    Backref,
    #[error("trailing backslash (\\)")]
    Escape,
    #[error("invalid character range")]
    Range,
    #[error("invalid character class")]
    CharClass,
    #[error("invalid collating element")]
    Collate,
    #[error("out of memory")]
    Space,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
    groups: usize,
    ignore_case: bool,
}

impl Pattern {
    /// Compiles a BRE (`extended == false`) or ERE leniently (malformed parts are taken
    /// literally); `fixed` matches the text literally.
    pub fn new(pattern: &str, extended: bool, fixed: bool, ignore_case: bool) -> Pattern {
        if fixed {
            return Pattern {
                root: Node::Group(0, vec![pattern.chars().map(Node::Char).collect()]),
                groups: 0,
                ignore_case,
            };
        }
        let c = compile::compile(pattern, extended);
        Pattern {
            root: Node::Group(0, c.alternatives),
            groups: c.groups,
            ignore_case,
        }
    }

    /// Compiles a BRE or ERE, refusing malformed patterns as `regcomp` does.
    pub fn compile(
        pattern: &str,
        extended: bool,
        ignore_case: bool,
    ) -> Result<Pattern, RegexError> {
        let c = compile::compile(pattern, extended);
        match c.error {
            Some(e) => Err(e),
            None => Ok(Pattern {
                root: Node::Group(0, c.alternatives),
                groups: c.groups,
                ignore_case,
            }),
        }
    }

    /// How many groups the pattern has.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// True when the pattern matches somewhere in `line`.
    pub fn matches(&self, line: &str) -> bool {
        let text: Vec<char> = line.chars().collect();
        self.find_at(&text, 0).is_some()
    }

    /// The leftmost match starting at or after `from` (anchors still refer to the
    /// whole `text`, like `REG_NOTBOL` for a later start). Positions are char offsets.
    pub fn find_at(&self, text: &[char], from: usize) -> Option<Captures> {
        let cx = matcher::Cx::new(text, self.ignore_case);
        let anchored = matches!(&self.root, Node::Group(_, alts)
            if alts.iter().all(|a| a.first() == Some(&Node::Start)));
        let last = if anchored { 0 } else { text.len() };
        for start in from..=last {
            let mut caps: Captures = vec![None; self.groups + 1];
            let hit = matcher::match_seq(
                std::slice::from_ref(&self.root),
                start,
                &cx,
                &mut caps,
                &mut |_, _| true,
            );
            if hit {
                return Some(caps);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
