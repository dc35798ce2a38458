//! Golden-fixture checks every service's event type runs in its tests.
//!
//! A service keeps one `<Type>.v<N>.bin` file per event type and version it
//! ever wrote, a sample of each current version, and the expected decoding
//! of each retired version. [`Golden`] checks that every version decodes (so
//! upcasting keeps working), that a payload was not changed without a
//! version bump, and that schema, samples and files agree. With
//! `UPDATE_FIXTURES=1` it writes missing fixtures of current versions, never
//! overwriting one.

use crate::{codec, DecodeError, Envelope, EventMeta, VersionedEvent};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

/// One service's event schema and its fixtures.
pub struct Golden<E> {
    /// Directory holding the `.bin` fixtures.
    pub dir: PathBuf,
    /// Service name (for the envelope round trip).
    pub service: &'static str,
    /// Every (type, version) ever written.
    pub schema: &'static [(&'static str, u16)],
    /// One sample per current (type, version).
    pub samples: Vec<E>,
    /// Retired versions: (type, version, expected decoding, exact bytes).
    pub historical: Vec<(&'static str, u16, E, Vec<u8>)>,
}

impl<E: VersionedEvent + PartialEq + Debug + Clone> Golden<E> {
    fn path(&self, event_type: &str, version: u16) -> PathBuf {
        self.dir.join(format!("{event_type}.v{version}.bin"))
    }

    fn current(&self, event_type: &str, version: u16) -> Option<&E> {
        self.samples
            .iter()
            .find(|s| s.event_type() == event_type && s.version() == version)
    }

    fn expected(&self, event_type: &str, version: u16) -> Option<E> {
        self.current(event_type, version).cloned().or_else(|| {
            self.historical
                .iter()
                .find(|(t, v, _, _)| *t == event_type && *v == version)
                .map(|(_, _, e, _)| e.clone())
        })
    }

    /// Every schema entry has a fixture that decodes to its expected value.
    pub fn check_fixtures_decode(&self) {
        let update = std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1");
        let mut missing = Vec::new();
        for &(event_type, version) in self.schema {
            let path = self.path(event_type, version);
            let want = self
                .expected(event_type, version)
                .unwrap_or_else(|| panic!("{event_type} v{version} has no expected value"));
            if !path.exists() {
                match self.current(event_type, version) {
                    Some(sample) if update => {
                        // create_new: never overwrite a fixture, even in a race.
                        let mut f = fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&path)
                            .unwrap();
                        f.write_all(&sample.encode_payload()).unwrap();
                        eprintln!("wrote {}", path.display());
                    }
                    _ => {
                        missing.push(path.display().to_string());
                        continue;
                    }
                }
            }
            let bytes = fs::read(&path).unwrap();
            let got = E::decode_payload(event_type, version, &bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(got, want, "{}", path.display());
        }
        assert!(
            missing.is_empty(),
            "event versions without a golden fixture (run with UPDATE_FIXTURES=1 \
             for current versions): {missing:?}"
        );
    }

    /// Current encodings equal their fixtures: catches a payload struct
    /// changed without bumping its version.
    pub fn check_current_encodings(&self) {
        for sample in &self.samples {
            let path = self.path(sample.event_type(), sample.version());
            // A missing fixture is reported by `check_fixtures_decode` (and
            // written by it under UPDATE_FIXTURES=1, possibly concurrently).
            let Ok(bytes) = fs::read(&path) else {
                continue;
            };
            assert_eq!(sample.encode_payload(), bytes, "{}", path.display());
        }
        for (event_type, version, _, bytes) in &self.historical {
            let path = self.path(event_type, *version);
            assert_eq!(&fs::read(&path).unwrap(), bytes, "{}", path.display());
        }
    }

    /// The schema lists exactly the samples and the history, and every file
    /// on disk belongs to a schema entry.
    pub fn check_schema(&self) {
        let schema: BTreeSet<(&str, u16)> = self.schema.iter().copied().collect();
        assert_eq!(schema.len(), self.schema.len(), "duplicate schema entries");
        let mut known: BTreeSet<(&str, u16)> = self
            .samples
            .iter()
            .map(|s| (s.event_type(), s.version()))
            .collect();
        assert_eq!(known.len(), self.samples.len(), "two samples of one type");
        known.extend(self.historical.iter().map(|(t, v, _, _)| (*t, *v)));
        assert_eq!(schema, known);
        for entry in fs::read_dir(&self.dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                self.schema
                    .iter()
                    .any(|(t, v)| name == format!("{t}.v{v}.bin")),
                "stray fixture {name}"
            );
        }
    }

    /// Bad payloads are typed errors, never panics or wrong values: an
    /// unknown type, a version after the current one, an empty payload and
    /// a sample's payload with a trailing byte.
    pub fn check_decode_errors(&self) {
        assert!(matches!(
            E::decode_payload("Nope", 1, &[]),
            Err(DecodeError::UnknownType { .. })
        ));
        for sample in &self.samples {
            let (t, v) = (sample.event_type(), sample.version());
            assert!(
                matches!(
                    E::decode_payload(t, v + 1, &sample.encode_payload()),
                    Err(DecodeError::UnknownType { .. })
                ),
                "{t} v{} must be unknown",
                v + 1
            );
            assert!(
                matches!(
                    E::decode_payload(t, v, &[]),
                    Err(DecodeError::Malformed { .. })
                ),
                "{t}: an empty payload must be malformed"
            );
            let mut bytes = sample.encode_payload();
            bytes.push(0);
            assert!(
                matches!(
                    E::decode_payload(t, v, &bytes),
                    Err(DecodeError::Malformed { .. })
                ),
                "{t}: a trailing byte must be malformed"
            );
        }
    }

    /// Every sample survives the envelope's encoding.
    pub fn check_envelope_round_trip(&self) {
        let meta = EventMeta {
            block: 9,
            causation: None,
            correlation: "op-0001".into(),
            trace: None,
        };
        for (i, sample) in self.samples.iter().enumerate() {
            let env = Envelope::wrap(self.service, i as u64 + 1, sample, &meta);
            let env = codec::decode_envelope(&codec::encode_envelope(&env)).unwrap();
            assert_eq!(&E::from_envelope(&env).unwrap(), sample);
        }
    }
}

/// The golden tests every core runs, as `#[test]` functions over a
/// `fn golden() -> Golden<E>` in scope: fixtures decode (upcasts
/// included), current encodings equal their fixtures, the schema lists
/// exactly the samples and the history, bad payloads are typed errors,
/// samples survive the envelope.
#[macro_export]
macro_rules! golden_tests {
    ($golden:expr) => {
        #[test]
        fn every_schema_entry_has_a_fixture_that_decodes_to_its_expected_value() {
            $golden.check_fixtures_decode();
        }

        #[test]
        fn current_encodings_equal_their_fixtures() {
            $golden.check_current_encodings();
        }

        #[test]
        fn schema_lists_exactly_the_samples_and_the_history() {
            $golden.check_schema();
        }

        #[test]
        fn unknown_and_malformed_payloads_are_typed_errors() {
            $golden.check_decode_errors();
        }

        #[test]
        fn events_round_trip_through_the_envelope() {
            $golden.check_envelope_round_trip();
        }
    };
}
