//! What a password typed in the console must be (ASVS 6.2): at least 12 characters (128
//! at most), not the user's name, not one of the commonly used passwords below (compared
//! without case), and not one character or a short pattern repeated. Pure.
//!
//! Must never: refuse spaces or any other character, or tell more than which rule failed.

use crate::domain::Password;

/// Fewest characters a typed password may have.
pub const MIN_CHARS: usize = 12;

/// Commonly used passwords of 12 characters or more (breach-list favourites and
/// keyboard walks); shorter ones are already refused by length.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789012345",
    "1234567890qwerty",
    "qwerty123456",
    "qwertyuiopas",
    "qwertyuiopasdfgh",
    "qwertyuiop123",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "zxcvbnm12345",
    "abcdefghijkl",
    "abcd1234abcd",
    "abc123abc123",
    "password1234",
    "password12345",
    "password123456",
    "password123!",
    "p@ssw0rd1234",
    "passw0rd1234",
    "passwordpassword",
    "iloveyou1234",
    "iloveyou12345",
    "letmein12345",
    "welcome12345",
    "welcome123456",
    "welcomewelcome",
    "changeme1234",
    "changeme12345",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "superman1234",
    "batman123456",
    "monkey123456",
    "dragon123456",
    "sunshine1234",
    "princess1234",
    "starwars1234",
    "pokemon12345",
    "michael12345",
    "jennifer1234",
    "charlie12345",
    "shadow123456",
    "master123456",
    "admin1234567",
    "adminadmin123",
    "administrator",
    "administrator1",
    "rootroot1234",
    "correcthorsebatterystaple",
    "thequickbrownfox",
    "letmeinletmein",
    "111111111111",
    "000000000000",
    "123123123123",
    "121212121212",
    "112233445566",
    "987654321098",
    "corralcorral",
    "corral123456",
    "android12345",
    "samsung12345",
    "whatsapp1234",
];

/// Checks a new password for `user`; the error says which rule it broke.
pub fn check(text: &str, user: &str) -> Result<Password, String> {
    let chars = text.chars().count();
    if chars < MIN_CHARS {
        return Err(format!(
            "the password must have at least {MIN_CHARS} characters"
        ));
    }
    let lower = text.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err("this password is on the list of commonly used passwords".into());
    }
    if lower.contains(&user.to_lowercase()) && !user.is_empty() {
        return Err("the password must not contain the user name".into());
    }
    let distinct: std::collections::HashSet<char> = text.chars().collect();
    if distinct.len() < 5 {
        return Err("the password repeats too few different characters".into());
    }
    Password::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn verdict(text: &str) -> String {
        match check(text, "ada") {
            Ok(_) => "accepted".into(),
            Err(e) => e,
        }
    }

    #[test]
    fn each_rule_has_its_own_answer() {
        expect!["the password must have at least 12 characters"].assert_eq(&verdict("short pass"));
        expect!["this password is on the list of commonly used passwords"]
            .assert_eq(&verdict("Password1234"));
        expect!["the password must not contain the user name"]
            .assert_eq(&verdict("my name is ADA, ok?"));
        expect!["the password repeats too few different characters"]
            .assert_eq(&verdict("abababababababab"));
        expect!["accepted"].assert_eq(&verdict("correct horse battery"));
        expect!["accepted"].assert_eq(&verdict("Ünïcode и пробелы 12"));
    }

    #[test]
    fn the_common_list_is_all_long_enough_to_matter_and_lower_case() {
        for p in COMMON {
            assert!(p.chars().count() >= MIN_CHARS, "{p}");
            assert_eq!(p.to_lowercase(), *p);
        }
    }
}
