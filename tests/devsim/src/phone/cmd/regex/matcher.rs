//! The backtracking matcher: continuation-passing over the node tree, recording group
//! positions as it goes and restoring them when a path fails.
//!
//! Bounded on every input: single-character repetitions are loops, not recursion;
//! repetitions of groups must consume input on every round; and a step budget and a
//! depth limit make hostile patterns give up (as "no match") instead of running for
//! ever or overflowing the stack.

use std::cell::Cell;

use super::{Captures, Node};

/// Work allowed for one search (all start positions together).
const STEP_BUDGET: usize = 2_000_000;
/// Nested calls allowed (groups, group repetitions, backreferences).
const MAX_DEPTH: usize = 1_500;
/// Stack the matcher may use below where the search started (frames are much larger
/// in debug builds than in release ones, so depth alone is not a bound).
const STACK_BUDGET: usize = 256 * 1024;

/// Roughly where the stack is now (the address of a local).
fn stack_position() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

pub(super) struct Cx<'t> {
    pub text: &'t [char],
    pub ignore_case: bool,
    steps: Cell<usize>,
    depth: Cell<usize>,
    stack_base: usize,
}

type Cont<'k> = dyn FnMut(usize, &mut Captures) -> bool + 'k;

impl<'t> Cx<'t> {
    pub fn new(text: &'t [char], ignore_case: bool) -> Self {
        Cx {
            text,
            ignore_case,
            steps: Cell::new(0),
            depth: Cell::new(0),
            stack_base: stack_position(),
        }
    }

    fn same(&self, a: char, b: char) -> bool {
        a == b || (self.ignore_case && fold(a) == fold(b))
    }

    fn single(&self, node: &Node, c: char) -> bool {
        match node {
            Node::Any => true,
            Node::Char(a) => self.same(*a, c),
            Node::Class(ranges, negate) => {
                let hit = |ch: char| ranges.iter().any(|(lo, hi)| *lo <= ch && ch <= *hi);
                let found = hit(c)
                    || (self.ignore_case
                        && (c.to_lowercase().any(hit) || c.to_uppercase().any(hit)));
                found != *negate
            }
            _ => false,
        }
    }
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn is_single(node: &Node) -> bool {
    matches!(node, Node::Any | Node::Char(_) | Node::Class(..))
}

/// Matches `seq` at `at`, then asks `k` about the end position.
pub(super) fn match_seq(
    seq: &[Node],
    at: usize,
    cx: &Cx<'_>,
    caps: &mut Captures,
    k: &mut Cont<'_>,
) -> bool {
    let steps = cx.steps.get() + 1;
    cx.steps.set(steps);
    let depth = cx.depth.get();
    if steps > STEP_BUDGET
        || depth > MAX_DEPTH
        || cx.stack_base.abs_diff(stack_position()) > STACK_BUDGET
    {
        return false;
    }
    cx.depth.set(depth + 1);
    let hit = step(seq, at, cx, caps, k);
    cx.depth.set(depth);
    hit
}

fn step(seq: &[Node], mut at: usize, cx: &Cx<'_>, caps: &mut Captures, k: &mut Cont<'_>) -> bool {
    let text = cx.text;
    let mut seq = seq;
    // Runs of single characters need no backtracking point of their own.
    while let Some((node, rest)) = seq.split_first() {
        if !is_single(node) {
            break;
        }
        if at >= text.len() || !cx.single(node, text[at]) {
            return false;
        }
        at += 1;
        seq = rest;
    }
    let Some((node, rest)) = seq.split_first() else {
        return k(at, caps);
    };
    match node {
        Node::Start => at == 0 && match_seq(rest, at, cx, caps, k),
        Node::End => at == text.len() && match_seq(rest, at, cx, caps, k),
        Node::Group(index, alternatives) => {
            let index = *index;
            for alt in alternatives {
                let hit = match_seq(alt, at, cx, caps, &mut |end, caps: &mut Captures| {
                    let saved = caps.get(index).copied().flatten();
                    set(caps, index, Some((at, end)));
                    if match_seq(rest, end, cx, caps, k) {
                        return true;
                    }
                    set(caps, index, saved);
                    false
                });
                if hit {
                    return true;
                }
            }
            false
        }
        Node::Repeat(inner, min, max) if is_single(inner) => {
            let mut n = 0;
            while n < *max && at + n < text.len() && cx.single(inner, text[at + n]) {
                n += 1;
            }
            if n < *min {
                return false;
            }
            (*min..=n)
                .rev()
                .any(|count| match_seq(rest, at + count, cx, caps, k))
        }
        Node::Repeat(inner, min, max) => repeat(inner, (*min, *max), 0, rest, at, cx, caps, k),
        Node::BackRef(index) => {
            let Some((s, e)) = caps.get(*index).copied().flatten() else {
                return false;
            };
            let len = e - s;
            let fits =
                at + len <= text.len() && (0..len).all(|i| cx.same(text[s + i], text[at + i]));
            fits && match_seq(rest, at + len, cx, caps, k)
        }
        // Single nodes were consumed above.
        Node::Any | Node::Char(_) | Node::Class(..) => false,
    }
}

fn set(caps: &mut Captures, index: usize, value: Option<(usize, usize)>) {
    if let Some(slot) = caps.get_mut(index) {
        *slot = value;
    }
}

/// Greedy repetition of a complex node: one more round first (only if it consumes
/// input), then the rest.
#[allow(clippy::too_many_arguments)]
fn repeat(
    inner: &Node,
    (min, max): (usize, usize),
    count: usize,
    rest: &[Node],
    at: usize,
    cx: &Cx<'_>,
    caps: &mut Captures,
    k: &mut Cont<'_>,
) -> bool {
    if count < max {
        let more = match_seq(
            std::slice::from_ref(inner),
            at,
            cx,
            caps,
            &mut |end, caps: &mut Captures| {
                (end > at || count < min)
                    && repeat(inner, (min, max), count + 1, rest, end, cx, caps, k)
            },
        );
        if more {
            return true;
        }
    }
    count >= min && match_seq(rest, at, cx, caps, k)
}
