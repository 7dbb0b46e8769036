//! mksh arithmetic cases.

use std::collections::BTreeMap;

use super::{Vars, eval};

impl Vars for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
    fn set(&mut self, name: &str, value: String) {
        self.insert(name.to_string(), value);
    }
}

#[test]
fn evaluates_like_mksh() {
    let mut v: BTreeMap<String, String> = BTreeMap::new();
    v.insert("x".into(), "4".into());
    v.insert("e".into(), "x*2".into());
    let cases = [
        ("1+2*3", Ok(7)),
        ("(1+2)*3", Ok(9)),
        ("x*e", Ok(32)),
        ("7/2 + 7%2", Ok(4)),
        ("-7/2", Ok(-3)),
        ("1<2 && 2<1 || 3", Ok(1)),
        ("x > 3 ? 10 : 20", Ok(10)),
        ("2147483647 + 1", Ok(-2147483648)),
        ("0x10 + 2#101 + 010", Ok(31)),
        ("unset_var + 1", Ok(1)),
        ("", Ok(0)),
        ("1/0", Err("1/0: zero divisor".to_string())),
        ("1a", Err("1a: bad number '1a'".to_string())),
        (
            "1 +",
            Err("1 +: unexpected 'end of expression'".to_string()),
        ),
        ("(1", Err("(1: missing )".to_string())),
        ("1 @ 2", Err("1 @ 2: unexpected '@'".to_string())),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &mut v), want, "{expr}");
    }
    assert_eq!(eval("i = 5, i += 2, i++", &mut v), Ok(7));
    assert_eq!(v.get("i").map(String::as_str), Some("8"));
    v.insert("loop".into(), "loop + 1".into());
    assert!(eval("loop", &mut v).is_err());
}
