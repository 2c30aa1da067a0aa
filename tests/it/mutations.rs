//! Nothing panics on input: real payloads, mutated at random (truncated, bytes flipped,
//! values swapped for other JSON types), correctly signed, must each get a 200 or a
//! 400 — never a 5xx — and leave the server healthy. Seeded, so failures reproduce.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::common::{fixtures, TestApp};

/// Replaces the value at a random path with a value of another JSON type.
fn retype(value: &mut Value, rng: &mut StdRng) {
    let replacements = [
        Value::Null,
        Value::from(-1),
        Value::from(1.5e300),
        Value::from("2019-13-45T99:99:99Z"),
        Value::from(true),
        serde_json::json!([1, "two", null]),
        serde_json::json!({"id": "not-a-number"}),
    ];
    let descend = match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    } && rng.random_bool(0.7);
    match value {
        Value::Object(map) if descend => {
            let key = map
                .keys()
                .nth(rng.random_range(0..map.len()))
                .unwrap()
                .clone();
            retype(map.get_mut(&key).unwrap(), rng);
        }
        Value::Array(items) if descend => {
            let i = rng.random_range(0..items.len());
            retype(&mut items[i], rng);
        }
        _ => *value = replacements[rng.random_range(0..replacements.len())].clone(),
    }
}

#[tokio::test]
async fn mutated_payloads_get_200_or_400_never_5xx() {
    let app = TestApp::spawn().await;
    let fixtures = fixtures();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..600 {
        let f = &fixtures[rng.random_range(0..fixtures.len())];
        let body: Vec<u8> = match i % 3 {
            0 => {
                let cut = rng.random_range(0..f.body.len());
                f.body[..cut].to_vec()
            }
            1 => {
                let mut b = f.body.clone();
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..b.len());
                    b[at] = rng.random();
                }
                b
            }
            _ => {
                let mut v: Value = serde_json::from_slice(&f.body).unwrap();
                for _ in 0..rng.random_range(1..4) {
                    retype(&mut v, &mut rng);
                }
                serde_json::to_vec(&v).unwrap()
            }
        };
        let response = app.github(&f.event, &format!("m-{i}"), &body).await;
        let status = response.status().as_u16();
        match status {
            200 => accepted += 1,
            400 => refused += 1,
            other => panic!(
                "mutation {i} of {}/{}: status {other}: {}",
                f.event,
                f.name,
                response.text().await.unwrap()
            ),
        }
    }
    assert!(
        accepted > 100 && refused > 100,
        "{accepted} accepted, {refused} refused"
    );
    assert_eq!(app.get_ok("/readyz").await["status"], "ready");
    // Everything accepted is readable back.
    assert_eq!(app.event_count().await, accepted);
}
