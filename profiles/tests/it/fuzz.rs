//! Runs the fuzz entry point over a few thousand deterministic mutations of the example
//! profiles and the committed regression inputs, so every `cargo test` exercises it.

use corral_profiles::fuzz::parse_and_validate;

/// Tokens that steer mutations towards interesting TOML and profile syntax.
const DICTIONARY: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "\"\"\"",
    "\n",
    "#",
    ",",
    "{",
    "}",
    ".",
    "\\u00e9",
    "\0",
    "é",
    "💥",
    "name = \"x\"\n",
    "extends = \"base\"\n",
    "extends = \"butcher-shop\"\n",
    "[messenger]\n",
    "[contacts]\n",
    "[[contacts.entries]]\n",
    "[devices.\"A1\".privacy]\n",
    "packages = [\"com.whatsapp\"]\n",
    "phone = \"+49 30 1\"\n",
    "phone = \"+999 1\"\n",
    "basis = \"consent\"\n",
    "region = \"DE\"\n",
    "heartbeat = \"4294967295h\"\n",
    "true",
    "1e9",
    "1979-05-27T07:32:00Z",
    "-9223372036854775809",
    "0x7fffffff",
];

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())];
                data.splice(at..at, token.bytes());
            }
            2 => {
                let end = (at + rng.below(40)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(80)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            4 => data.truncate(at),
            _ => data.insert(at, rng.below(256) as u8),
        }
    }
    data
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let base = std::fs::read(format!("{dir}/base.toml")).unwrap();
    let shop = std::fs::read(format!("{dir}/butcher-shop.toml")).unwrap();
    let mut both = base.clone();
    both.push(0);
    both.extend_from_slice(&shop);
    let mut seeds = vec![
        base,
        shop,
        both,
        crate::fixture::MINIMAL.as_bytes().to_vec(),
    ];
    let regressions = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions");
    if let Ok(entries) = std::fs::read_dir(regressions) {
        for e in entries.flatten() {
            seeds.push(std::fs::read(e.path()).unwrap());
        }
    }
    seeds
}

#[test]
fn parser_and_validator_survive_mutated_profiles() {
    let seeds = seeds();
    for s in &seeds {
        parse_and_validate(s);
    }
    let mut rng = Rng(0x5eed_c0ff_ee00_0001);
    for _ in 0..3_000 {
        let seed = &seeds[rng.below(seeds.len())];
        parse_and_validate(&mutate(&mut rng, seed));
    }
}

#[test]
fn phone_parsing_survives_number_like_garbage() {
    let alphabet = b"0123456789+-() ./";
    let mut rng = Rng(42);
    for _ in 0..3_000 {
        let len = rng.below(30);
        let s: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        let _ = corral_profiles::PhoneNumber::parse(&s, None);
        let _ = corral_profiles::PhoneNumber::parse(&s, corral_profiles::Region::parse("DE"));
    }
}
