//! Mutation testing of the loader: thousands of deterministic corruptions of real manifests
//! (byte changes, truncation, inserted YAML syntax) must never panic, and every error must point
//! inside the text it came from.

use palisade_load::load_str;

const SEEDS: [&str; 2] = [
    include_str!("../../../examples/insecure/shop.yaml"),
    include_str!("../../../examples/hardened/shop.yaml"),
];

/// Fragments that exercise the parser's corners when spliced anywhere.
const SPLICES: [&str; 14] = [
    "&a ", "*a", "<<: *a\n", "---\n", "...\n", "{", "]", "\"", "'", "|\n", "? ", "!!binary ", "\t", "%YAML 1.2\n",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut text = seed.to_owned();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(text.len());
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        match rng.below(4) {
            0 => text.insert_str(at, SPLICES[rng.below(SPLICES.len())]),
            1 => text.truncate(at),
            2 => {
                let end = (at + 1 + rng.below(40)).min(text.len());
                let end = (end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap();
                text.replace_range(at..end, "");
            }
            _ => {
                let byte = b" :-#\n[]{},&*!|>'\"%@`"[rng.below(20)] as char;
                text.insert(at, byte);
            }
        }
    }
    text
}

#[test]
fn corrupted_manifests_never_panic_and_errors_point_inside_the_text() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut with_errors = 0;
    for round in 0..3000 {
        let seed = SEEDS[round % SEEDS.len()];
        let text = mutate(seed, &mut rng);
        let lines = text.lines().count() as u32 + 1;
        let loaded = load_str(&text, "mutant.yaml");
        for error in &loaded.errors {
            assert!(
                (1..=lines).contains(&error.line),
                "error line {} outside 1..={lines} for:\n{text}\n{error:?}",
                error.line
            );
        }
        for object in &loaded.objects {
            assert!(object.root.mark.line <= lines);
        }
        with_errors += usize::from(!loaded.errors.is_empty());
    }
    // The corruptions must actually reach the error paths, or this test proves nothing.
    assert!(with_errors > 500, "only {with_errors} of 3000 mutants had errors");
}
