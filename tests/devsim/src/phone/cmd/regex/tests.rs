//! Matching and capturing like bionic's regex (for the patterns the project uses).

use super::{Pattern, RegexError};

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
        ("^[[:digit:]]\\{3\\}$", false, "123", true),
        ("^[[:digit:]]\\{3\\}$", false, "1234", false),
        ("^a{2,3}$", true, "aaa", true),
        ("^a{2,3}$", true, "aaaa", false),
        ("^\\(ab\\)\\1$", false, "abab", true),
        ("^(a*){2}x$", true, "x", true),
        ("[[:space:]]", true, "a\tb", true),
        ("^*a", false, "*a", true),
        ("a{", true, "a{", true),
    ];
    for (pat, ext, line, want) in cases {
        assert_eq!(
            Pattern::new(pat, ext, false, false).matches(line),
            want,
            "{pat} on {line}"
        );
    }
    assert!(Pattern::new("WHATS", false, false, true).matches("com.whatsapp"));
    assert!(Pattern::new("[A-Z]", false, false, true).matches("abc"));
    assert!(Pattern::new("a.b", false, true, false).matches("xa.b"));
    assert!(!Pattern::new("a.b", false, true, false).matches("xaxb"));
}

#[test]
fn captures_report_positions() {
    let text: Vec<char> = "Row: 0 _id=42, x".chars().collect();
    let p = Pattern::new("^Row: 0 _id=\\([0-9]*\\).*", false, false, false);
    let caps = p.find_at(&text, 0);
    assert_eq!(caps, Some(vec![Some((0, 16)), Some((11, 13))]));
    let p = Pattern::new("(a)|(b)", true, false, false);
    let text: Vec<char> = "xb".chars().collect();
    assert_eq!(
        p.find_at(&text, 0),
        Some(vec![Some((1, 2)), None, Some((1, 2))])
    );
    assert_eq!(p.find_at(&text, 2), None);
}

#[test]
fn malformed_patterns_are_refused_by_compile() {
    let cases = [
        ("\\(a", false, RegexError::Paren),
        ("a)", true, RegexError::Paren),
        ("[a", false, RegexError::Bracket),
        ("a\\{1", false, RegexError::Brace),
        ("a{3,1}", true, RegexError::BadBrace),
        ("*a", true, RegexError::BadRepeat),
        ("\\1", false, RegexError::Backref),
        ("a\\", false, RegexError::Escape),
        ("[z-a]", false, RegexError::Range),
        ("[[:nope:]]", false, RegexError::CharClass),
    ];
    for (pat, ext, want) in cases {
        assert_eq!(Pattern::compile(pat, ext, false), Err(want), "{pat}");
    }
    assert!(Pattern::compile("^a\\(b*\\)c$", false, false).is_ok());
}

#[test]
fn hostile_patterns_give_up_instead_of_hanging() {
    let long: String = "a".repeat(20_000);
    let text: Vec<char> = long.chars().collect();
    // Exponential backtracking and deep group repetition both end.
    assert!(
        Pattern::new("^(a|a)*b$", true, false, false)
            .find_at(&text, 0)
            .is_none()
    );
    assert!(
        Pattern::new("a*a*a*a*b", false, false, false)
            .find_at(&text, 0)
            .is_none()
    );
    // Deep group repetition stays within a small stack (it gives up, it does not crash).
    let deep = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let _ = Pattern::new("(a)*$", true, false, false).find_at(&text, 0);
            let short: Vec<char> = "a".repeat(50).chars().collect();
            Pattern::new("^(a)*$", true, false, false).find_at(&short, 0)
        })
        .map(|h| h.join());
    assert!(matches!(deep, Ok(Ok(Some(_)))), "{deep:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Any pattern compiles (or is refused) and matching any text ends.
    #[test]
    fn any_pattern_any_text(pattern in "[a-c()|*+?{},0-9\\\\\\[\\]^$.:-]{0,16}", text in "[a-c ]{0,24}", ext: bool) {
        let _ = Pattern::compile(&pattern, ext, false);
        let p = Pattern::new(&pattern, ext, false, false);
        let chars: Vec<char> = text.chars().collect();
        if let Some(caps) = p.find_at(&chars, 0) {
            for (s, e) in caps.into_iter().flatten() {
                proptest::prop_assert!(s <= e && e <= chars.len());
            }
        }
    }
}
