//! The small regular-expression matcher behind `grep`: BRE and ERE spelling,
//! literals, `.`, `[…]`, `*`, `+`, `?`, `^`, `$`, groups and `|`, matched by
//! backtracking (runs that consume nothing are cut, so no pattern loops forever).

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, usize),
}

/// A compiled pattern: alternatives of sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    alternatives: Vec<Vec<Node>>,
    ignore_case: bool,
}

/// Pattern tokens after BRE/ERE spelling is resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Lit(char),
    Meta(char),
}

fn tokenize(pattern: &str, extended: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                // In a BRE these are operators only when escaped.
                Some(n @ ('(' | ')' | '|' | '+' | '?' | '{' | '}')) if !extended => {
                    out.push(Tok::Meta(n))
                }
                Some(n @ ('d' | 's' | 'w')) => out.push(Tok::Meta(n)),
                Some(n) => out.push(Tok::Lit(n)),
                None => out.push(Tok::Lit('\\')),
            }
        } else if matches!(c, '.' | '[' | ']' | '*' | '^' | '$')
            || (extended && matches!(c, '(' | ')' | '|' | '+' | '?'))
        {
            out.push(Tok::Meta(c));
        } else {
            out.push(Tok::Lit(c));
        }
    }
    out
}

struct Compiler {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Compiler {
    fn alternatives(&mut self) -> Vec<Vec<Node>> {
        let mut alts = vec![self.sequence()];
        while self.toks.get(self.pos) == Some(&Tok::Meta('|')) {
            self.pos += 1;
            alts.push(self.sequence());
        }
        alts
    }

    fn sequence(&mut self) -> Vec<Node> {
        let mut seq: Vec<Node> = Vec::new();
        while let Some(&tok) = self.toks.get(self.pos) {
            if tok == Tok::Meta('|') || (tok == Tok::Meta(')') && self.depth > 0) {
                break;
            }
            self.pos += 1;
            let node = match tok {
                Tok::Meta('.') => Node::Any,
                Tok::Meta('^') if seq.is_empty() => Node::Start,
                Tok::Meta('$') if self.at_sequence_end() => Node::End,
                Tok::Meta('d') => Node::Class(vec![('0', '9')], false),
                Tok::Meta('s') => Node::Class(vec![(' ', ' '), ('\t', '\t')], false),
                Tok::Meta('w') => {
                    Node::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false)
                }
                Tok::Meta('(') if self.depth < 16 => {
                    self.depth += 1;
                    let inner = self.alternatives();
                    self.depth -= 1;
                    if self.toks.get(self.pos) == Some(&Tok::Meta(')')) {
                        self.pos += 1;
                    }
                    Node::Group(inner)
                }
                Tok::Meta('[') => self.class(),
                Tok::Meta(q @ ('*' | '+' | '?')) => {
                    let (min, max) = match q {
                        '*' => (0, usize::MAX),
                        '+' => (1, usize::MAX),
                        _ => (0, 1),
                    };
                    match seq.pop() {
                        Some(prev) if !matches!(prev, Node::Repeat(..) | Node::Start) => {
                            Node::Repeat(Box::new(prev), min, max)
                        }
                        Some(prev) => {
                            seq.push(prev);
                            Node::Char(q)
                        }
                        None => Node::Char(q),
                    }
                }
                Tok::Meta(c) | Tok::Lit(c) => Node::Char(c),
            };
            seq.push(node);
        }
        seq
    }

    fn at_sequence_end(&self) -> bool {
        match self.toks.get(self.pos) {
            None => true,
            Some(Tok::Meta('|')) => true,
            Some(Tok::Meta(')')) => self.depth > 0,
            _ => false,
        }
    }

    fn class(&mut self) -> Node {
        let start = self.pos;
        let negate = self.toks.get(self.pos) == Some(&Tok::Meta('^'));
        if negate {
            self.pos += 1;
        }
        let ch = |t: &Tok| match t {
            Tok::Lit(c) | Tok::Meta(c) => *c,
        };
        let mut ranges = Vec::new();
        let mut first = true;
        while let Some(t) = self.toks.get(self.pos) {
            if *t == Tok::Meta(']') && !first {
                self.pos += 1;
                return Node::Class(ranges, negate);
            }
            let lo = ch(t);
            let dash = self.toks.get(self.pos + 1).map(ch) == Some('-');
            match self.toks.get(self.pos + 2) {
                Some(hi) if dash && *hi != Tok::Meta(']') => {
                    ranges.push((lo, ch(hi)));
                    self.pos += 3;
                }
                _ => {
                    ranges.push((lo, lo));
                    self.pos += 1;
                }
            }
            first = false;
        }
        self.pos = start;
        Node::Char('[')
    }
}

impl Pattern {
    /// Compiles a BRE (`extended == false`) or ERE; `fixed` matches literally.
    pub fn new(pattern: &str, extended: bool, fixed: bool, ignore_case: bool) -> Pattern {
        let alternatives = if fixed {
            vec![pattern.chars().map(Node::Char).collect()]
        } else {
            let mut c = Compiler {
                toks: tokenize(pattern, extended),
                pos: 0,
                depth: 0,
            };
            let mut alts = c.alternatives();
            // A stray `)` at the top level is literal.
            while c.pos < c.toks.len() {
                c.pos += 1;
                alts.push(c.sequence());
            }
            alts
        };
        Pattern {
            alternatives,
            ignore_case,
        }
    }

    /// True when the pattern matches somewhere in `line`.
    pub fn matches(&self, line: &str) -> bool {
        let fold = |c: char| {
            if self.ignore_case {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c
            }
        };
        let text: Vec<char> = line.chars().map(fold).collect();
        (0..=text.len()).any(|start| {
            self.alternatives
                .iter()
                .any(|seq| match_seq(seq, &text, start, &fold, &mut |_| true))
        })
    }
}

fn node_char(node: &Node, c: char, fold: &dyn Fn(char) -> char) -> bool {
    match node {
        Node::Any => true,
        Node::Char(a) => fold(*a) == c,
        Node::Class(ranges, negate) => {
            ranges
                .iter()
                .any(|(lo, hi)| fold(*lo) <= c && c <= fold(*hi))
                != *negate
        }
        _ => false,
    }
}

/// Matches `seq` at `at`, then asks `k` whether the rest matches from the end position.
fn match_seq(
    seq: &[Node],
    text: &[char],
    at: usize,
    fold: &dyn Fn(char) -> char,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    let Some((node, rest)) = seq.split_first() else {
        return k(at);
    };
    match node {
        Node::Start => at == 0 && match_seq(rest, text, at, fold, k),
        Node::End => at == text.len() && match_seq(rest, text, at, fold, k),
        Node::Group(alts) => alts.iter().any(|alt| {
            match_seq(alt, text, at, fold, &mut |end| {
                match_seq(rest, text, end, fold, k)
            })
        }),
        Node::Repeat(inner, min, max) => {
            match_repeat(inner, *min, *max, 0, rest, text, at, fold, k)
        }
        single => {
            at < text.len()
                && node_char(single, text[at], fold)
                && match_seq(rest, text, at + 1, fold, k)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn match_repeat(
    inner: &Node,
    min: usize,
    max: usize,
    count: usize,
    rest: &[Node],
    text: &[char],
    at: usize,
    fold: &dyn Fn(char) -> char,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    // Greedy: try one more repetition first (only if it consumes input), then stop.
    if count < max {
        let more = match_seq(std::slice::from_ref(inner), text, at, fold, &mut |end| {
            end > at && match_repeat(inner, min, max, count + 1, rest, text, end, fold, k)
        });
        if more {
            return true;
        }
    }
    count >= min && match_seq(rest, text, at, fold, k)
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn patterns_match_like_grep() {
        let cases = [
            ("whatsapp", false, "package:com.whatsapp", true),
            (
                "^package:com\\.whatsapp$",
                false,
                "package:com.whatsapp.w4b",
                false,
            ),
            ("w4b$", false, "package:com.whatsapp.w4b", true),
            ("corral-agent|sh", true, "12 corral-agent", true),
            ("a[0-9]+b", true, "xa123b", true),
            ("a[0-9]\\+b", false, "xab", false),
            ("[", false, "a[b", true),
            (
                "version.(sdk|release)]",
                true,
                "[ro.build.version.sdk]: [34]",
                true,
            ),
            (
                "version.\\(sdk\\|release\\)]",
                false,
                "[ro.build.version.release]: [14]",
                true,
            ),
            ("(ab)+c$", true, "xababc", true),
            ("^(a|b)*$", true, "abba", true),
            ("^(a|b)*$", true, "abca", false),
        ];
        for (pat, ext, line, want) in cases {
            assert_eq!(
                Pattern::new(pat, ext, false, false).matches(line),
                want,
                "{pat} on {line}"
            );
        }
        assert!(Pattern::new("WHATS", false, false, true).matches("com.whatsapp"));
        assert!(Pattern::new("a.b", false, true, false).matches("xa.b"));
        assert!(!Pattern::new("a.b", false, true, false).matches("xaxb"));
    }
}
