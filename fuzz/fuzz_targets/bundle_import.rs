#![no_main]
//! See `doorstep_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(
    init: doorstep_fuzzing::let_caught_panics_unwind(),
    |data: &[u8]| (doorstep_fuzzing::target("bundle_import").expect("a target"))(data)
);
