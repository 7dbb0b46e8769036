//! The fuzz entry points on every `cargo test`: real Android outputs (the parsers' test
//! samples), the committed regressions in `agent/fuzz/regressions/`, and thousands of
//! deterministic mutations of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use corral_agent::fuzz;

/// Real outputs, one per parser (selector byte first).
fn seeds() -> Vec<Vec<u8>> {
    let samples: [(u8, &str); 10] = [
        (
            0,
            "Users:\n\tUserInfo{0:null:4c13} running\n\tUserInfo{10:Work profile:1030} running\n",
        ),
        (
            1,
            "package:android\npackage:com.android.settings\npackage:com.whatsapp.w4b\n",
        ),
        (
            2,
            "com.android.settings/.Settings\ncom.whatsapp.w4b/com.whatsapp.Main\n",
        ),
        (
            3,
            "Packages:\n  Package [com.whatsapp.w4b] (e3f1a2b):\n    pkgFlags=[ SYSTEM HAS_CODE ]\n    User 0: ceDataInode=1 installed=true hidden=true suspended=false enabled=0 instant=false\n      runtime permissions:\n        android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET ]\n    User 10: installed=true hidden=false suspended=true enabled=3\n\nDexopt state:\n",
        ),
        (
            4,
            "User UserInfo{0:null:4c13}:\n  com.google,1\n\nUser UserInfo{10:Shop:1030}:\n  com.whatsapp.w4b,1\n\n",
        ),
        (
            5,
            "Row: 0 raw_contact_id=1, mimetype=vnd.android.cursor.item/name, data1=Meyer, Wholesale\nRow: 1 raw_contact_id=1, mimetype=vnd.android.cursor.item/phone_v2, data1=+493012345678\n",
        ),
        (
            6,
            "2 owners:\nUser  0: admin=com.x/.Admin,DeviceOwner\nUser 10: admin=com.y/.A,ProfileOwner\n",
        ),
        (7, "Users:\n\n__CORRAL_EXIT__0\n"),
        (
            8,
            "__CORRAL_SECTION_0000000000000007__ users\nUsers:\n\n__CORRAL_STATUS_0000000000000007__ 0\n__CORRAL_SECTION_0000000000000007__ sdk\n34\n\n__CORRAL_STATUS_0000000000000007__ 0\n",
        ),
        (
            9,
            "Package com.android.chrome new hidden state: true\n__CORRAL_STEP_0000000000000001__\nBackup Manager now disabled\n__CORRAL_STEP_0000000000000001__\nSuccess: created user id 10\n__CORRAL_STEP_0000000000000001__\n",
        ),
    ];
    samples
        .iter()
        .map(|(sel, text)| {
            let mut v = vec![*sel];
            v.extend_from_slice(text.as_bytes());
            v
        })
        .collect()
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "\n",
    "\t",
    " ",
    ":",
    "}",
    "{",
    "=",
    ", ",
    " running",
    "Row: ",
    "package:",
    "User ",
    "installed=",
    "granted=true",
    "NULL",
    "__CORRAL_EXIT__",
    "\u{fffd}",
    "\r\n",
    "9999999999999",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        if v.len() < 2 {
            v.push(rng.next() as u8);
            continue;
        }
        let at = 1 + rng.below(v.len() - 1);
        match rng.below(6) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => {
                v.remove(at);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            3 => v.truncate(at),
            4 => {
                let end = (at + rng.below(16)).min(v.len());
                let piece: Vec<u8> = v[at..end].to_vec();
                v.splice(at..at, piece);
            }
            _ => v[at] = rng.next() as u8,
        }
    }
    v
}

#[test]
fn parsers_survive_mutated_real_outputs() {
    let seeds = seeds();
    for s in &seeds {
        fuzz::parsers(s);
    }
    let mut rng = Rng(0x5EED_CA11_AB1E);
    for i in 0..6000 {
        let seed = &seeds[i % seeds.len()];
        fuzz::parsers(&mutate(&mut rng, seed));
    }
}

#[test]
fn outbox_reading_survives_mutated_files() {
    let mut file = Vec::new();
    for p in [
        &b"{\"kind\":\"floor\",\"next_seq\":4}"[..],
        b"{\"a\":1}",
        b"{}",
    ] {
        file.extend(corral_agent::outbox::record::encode(p));
    }
    fuzz::outbox(&file);
    let mut rng = Rng(0xF11E);
    for _ in 0..3000 {
        let mut m = mutate(&mut rng, &file);
        m.insert(0, file[0]);
        fuzz::outbox(&m);
    }
}

#[test]
fn committed_regressions_replay() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions");
    for (dir, entry) in [
        ("parsers", fuzz::parsers as fn(&[u8])),
        ("outbox", fuzz::outbox),
    ] {
        for f in std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .flatten()
        {
            if f.path().is_file() && f.file_name() != ".gitkeep" {
                entry(&std::fs::read(f.path()).unwrap());
            }
        }
    }
}
