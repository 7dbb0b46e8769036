//! Globbing: pattern matching for `*`, `?`, `[…]` and `\` escapes (`case`, `${x#p}`)
//! and pathname expansion of the last path component.

use super::run::Shell;

impl Shell<'_> {
    /// Matches a pattern whose metacharacters are in the last path component.
    pub(super) fn glob(&self, pattern: &str) -> Vec<String> {
        let (dir, name_pat) = match pattern.rfind('/') {
            Some(i) => (&pattern[..=i], &pattern[i + 1..]),
            None => ("", pattern),
        };
        if dir.contains(['*', '?', '[']) {
            return Vec::new();
        }
        let dir_unescaped = dir.replace('\\', "");
        let list_dir = if dir_unescaped.is_empty() {
            self.cwd.clone()
        } else {
            self.resolve(&dir_unescaped)
        };
        let Ok(entries) = self.phone.fs().list(&list_dir) else {
            return Vec::new();
        };
        let pat: Vec<char> = name_pat.chars().collect();
        entries
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| {
                (!name.starts_with('.') || name_pat.starts_with('.'))
                    && glob_match(&pat, &name.chars().collect::<Vec<_>>())
            })
            .map(|name| format!("{dir_unescaped}{name}"))
            .collect()
    }
}

/// One element of a glob pattern.
enum GlobItem {
    Star,
    Any,
    Char(char),
    /// A bracket expression: ranges, negated.
    Set(Vec<(char, char)>, bool),
}

fn glob_items(p: &[char]) -> Vec<GlobItem> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => items.push(GlobItem::Star),
            '?' => items.push(GlobItem::Any),
            '\\' if i + 1 < p.len() => {
                i += 1;
                items.push(GlobItem::Char(p[i]));
            }
            '[' => match p[i + 1..].iter().skip(1).position(|&c| c == ']') {
                Some(off) => {
                    let end = i + 2 + off;
                    let mut set = &p[i + 1..end];
                    let neg = matches!(set.first(), Some('!' | '^'));
                    if neg {
                        set = &set[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut j = 0;
                    while j < set.len() {
                        if j + 2 < set.len() && set[j + 1] == '-' {
                            ranges.push((set[j], set[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((set[j], set[j]));
                            j += 1;
                        }
                    }
                    items.push(GlobItem::Set(ranges, neg));
                    i = end;
                }
                None => items.push(GlobItem::Char('[')),
            },
            c => items.push(GlobItem::Char(c)),
        }
        i += 1;
    }
    items
}

/// A compiled glob pattern.
pub struct Glob {
    items: Vec<GlobItem>,
}

impl Glob {
    /// Compiles `pattern` (`*`, `?`, `[…]`, `\` escapes).
    pub fn new(pattern: &str) -> Glob {
        let p: Vec<char> = pattern.chars().collect();
        Glob {
            items: glob_items(&p),
        }
    }

    /// The same pattern matching reversed text (for suffixes).
    pub fn reversed(mut self) -> Glob {
        self.items.reverse();
        self
    }

    /// The lengths (in chars, ascending) of the prefixes of `text` the pattern matches:
    /// one pass of the pattern's automaton, so O(text × pattern) for any pattern.
    pub fn prefix_matches(&self, text: impl Iterator<Item = char>) -> Vec<usize> {
        let m = self.items.len();
        let close = |states: &mut Vec<bool>| {
            for i in 0..m {
                if states[i] && matches!(self.items[i], GlobItem::Star) {
                    states[i + 1] = true;
                }
            }
        };
        let mut states = vec![false; m + 1];
        states[0] = true;
        close(&mut states);
        let mut ends = Vec::new();
        if states[m] {
            ends.push(0);
        }
        let mut next = vec![false; m + 1];
        for (n, c) in text.enumerate() {
            next.iter_mut().for_each(|s| *s = false);
            for i in (0..m).filter(|&i| states[i]) {
                match &self.items[i] {
                    GlobItem::Star => next[i] = true,
                    item if one(item, c) => next[i + 1] = true,
                    _ => {}
                }
            }
            close(&mut next);
            if !next.iter().any(|s| *s) {
                break;
            }
            if next[m] {
                ends.push(n + 1);
            }
            std::mem::swap(&mut states, &mut next);
        }
        ends
    }
}

fn one(item: &GlobItem, c: char) -> bool {
    match item {
        GlobItem::Any => true,
        GlobItem::Char(x) => *x == c,
        GlobItem::Set(ranges, neg) => ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *neg,
        GlobItem::Star => false,
    }
}

/// Whether `text` matches glob `pattern` (`*`, `?`, `[…]`, `\` escapes): linear
/// backtracking over the last `*`, so no pattern is exponential.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = text.chars().collect();
    glob_match(&p, &s)
}

fn glob_match(p: &[char], s: &[char]) -> bool {
    let items = glob_items(p);
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match items.get(pi) {
            Some(GlobItem::Star) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(item) if one(item, s[si]) => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    items[pi..].iter().all(|i| matches!(i, GlobItem::Star))
}
