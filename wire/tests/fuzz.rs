//! The fuzz entry point under `cargo test`: every committed regression input, then a few
//! thousand deterministic mutations of valid frames of every message (bit flips, length
//! prefix tampering, JSON tokens spliced in, truncations, duplications).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use corral_wire::*;

fn seeds() -> Vec<Vec<u8>> {
    let agent = [
        AgentMessage::Hello(Hello {
            agent_version: "0.1.0".into(),
            protocol_version: PROTOCOL_VERSION,
            last_applied_version: Some("00112233445566778899".into()),
            last_push_seq_processed: 4,
            outbox_next_seq: 12,
        }),
        AgentMessage::ApplyResult(ApplyResult {
            seq: 3,
            push_seq: 4,
            version: "00112233445566778899".into(),
            outcome: ApplyOutcome::Failed {
                errors: vec!["no work profile".into()],
            },
            actions: vec!["added 25 contacts".into()],
        }),
        AgentMessage::StateReport(StateReport {
            seq: 5,
            observed: serde_json::json!({ "contacts": [{ "name": "Zoë", "n": 1.5e300 }], "ok": true }),
        }),
        AgentMessage::DriftReport(DriftReport {
            seq: 6,
            items: vec![serde_json::json!({ "kind": "extra_contact" })],
            repaired: false,
        }),
        AgentMessage::Heartbeat {},
        AgentMessage::CommandResult(CommandResult {
            seq: 7,
            push_seq: 9,
            command_id: "c1".into(),
            outcome: CommandOutcome::Failed { error: "x".into() },
            output: None,
        }),
        AgentMessage::RenewRequest(RenewRequest {
            csr_pem: "-----BEGIN".into(),
        }),
    ];
    let controller = [
        ControllerMessage::Welcome(Welcome {
            device_id: "ab".repeat(16),
            server_time: 1_795_000_000_000,
            acked_agent_seq: 2,
        }),
        ControllerMessage::Command(Command {
            push_seq: 3,
            command_id: "c1".into(),
            kind: CommandKind::RemoveWorkProfile,
        }),
        ControllerMessage::Goodbye(Goodbye {
            reason: "revoked".into(),
        }),
        ControllerMessage::HeartbeatAck {},
    ];
    let mut out: Vec<Vec<u8>> = agent.iter().map(|m| encode(m).unwrap()).collect();
    out.extend(controller.iter().map(|m| encode(m).unwrap()));
    out.push(
        PreparedProfile::new("0011", "[[contacts]]\nname = \"A\"\n")
            .unwrap()
            .frame(8)
            .unwrap()
            .to_vec(),
    );
    out.push(
        encode(&EnrollRequest {
            token: "enr-0123456789ab.secret".into(),
            csr_pem: "-----BEGIN CERTIFICATE REQUEST-----".into(),
            device_info: DeviceInfo {
                model: "Pixel 8".into(),
                android_release: "15".into(),
                sdk: 35,
                abi: "arm64-v8a".into(),
                serial: None,
            },
        })
        .unwrap(),
    );
    out
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "1e999",
    "18446744073709551616",
    "\"type\":\"hello\"",
    "\"v\":2",
    "\"v\":1",
    "\\u0000",
    "\\ud800",
    "é",
    "\u{ffff}",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            2 if at < input.len() => {
                let end = (at + rng.below(8)).min(input.len());
                input.drain(at..end);
            }
            3 => input.truncate(at),
            4 if input.len() >= 4 => {
                let len = [0u32, 1, 3, u32::MAX, 8 * 1024 * 1024 + 1][rng.below(5)];
                input[..4].copy_from_slice(&len.to_be_bytes());
            }
            5 => {
                let copy = input.clone();
                input.extend_from_slice(&copy);
            }
            _ => {
                // Fix the length prefix so the mutation reaches the JSON decoder.
                if input.len() >= 4 {
                    let len = u32::try_from(input.len() - 4).unwrap();
                    input[..4].copy_from_slice(&len.to_be_bytes());
                }
            }
        }
    }
}

#[test]
fn regression_inputs_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        fuzz::frames(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn mutated_frames_never_panic_and_what_decodes_round_trips() {
    let seeds = seeds();
    for seed in &seeds {
        fuzz::frames(seed);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let mut input = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &mut input);
        fuzz::frames(&input);
    }
}
