//! `vakhsh check-config`: every problem at once, each with its key path and value.

use crate::support::{binary, default_config};
use std::path::Path;

#[test]
fn a_broken_file_lists_every_error_and_exits_78() {
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken.toml");
    let output = binary()
        .arg("check-config")
        .arg(&broken)
        .env("VAKHSH__TCP__BOGUS", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = [
        r#"areas[0].colour = "green": unknown key"#,
        r#"areas[1].kind = "foreign""#,
        "plants[0].capacity_mw = -3000",
        "plants[0].reservoir.rule_curve_m = [872.0",
        "plants[0].reservoir.full_m = 850: must be above floor_m (857)",
        "plants[1].capacity_mw = \"big\"",
        "plants[1].min_mw = true",
        r#"plants[1].area = "atlantis": no area has this id"#,
        "loads[0].tier = 0",
        r#"loads[0].class = "households""#,
        "lines[0].loss_fraction = 1.5",
        "contracts[0].floor_mw = 50: an import offer (neighbor to domestic) is a source and has no floor",
        "contracts[0].floor_tier = 1: an import offer",
        r#"contracts[0].window.start = "13-01""#,
        "contracts[0].tariff_usd_per_mwh = -5: must be a finite number of at least 0",
        r#"states.hold = "a while""#,
        r#"http.address = "everywhere""#,
        "weather = ",
        "tcp.bogus = 1: unknown key",
    ];
    for line in expected {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    let reported = stderr.lines().filter(|l| l.starts_with("  ")).count();
    assert!(reported >= expected.len(), "{stderr}");
}

#[test]
fn the_reference_configuration_is_valid() {
    let output = binary()
        .arg("check-config")
        .arg(default_config())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok (7 areas, 9 plants"));
}

#[test]
fn environment_overrides_are_validated_like_the_file() {
    let output = binary()
        .arg("check-config")
        .arg(default_config())
        .env("VAKHSH__SCHEDULE__DEADBAND_MW", "-1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("schedule.deadband_mw = -1"));
}

#[test]
fn a_fault_rate_outside_0_to_1_is_a_configuration_error() {
    for rate in ["1.5", "-0.1"] {
        let output = binary()
            .arg("check-config")
            .arg(default_config())
            .env("VAKHSH__SIMULATOR__FAULTS", rate)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(78));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("simulator.faults = {rate}")),
            "{stderr}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let output = binary().args(["simulate", "--scenario"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    for faults in [
        "--faults=1.5",
        "--faults=-0.1",
        "--faults=some",
        "--faults=NaN",
    ] {
        let output = binary()
            .args([
                "simulate",
                "--scenario",
                "winter-shortage",
                "--duration",
                "1m",
            ])
            .args([faults, "--out", "/nonexistent/never-written.jsonl"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{faults}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("fraction"), "{faults}: {stderr}");
    }
}

#[test]
fn scenario_knobs_are_checked_even_with_the_simulator_disabled() {
    let output = binary()
        .arg("check-config")
        .arg(default_config())
        .env("VAKHSH__SIMULATOR__ENABLED", "false")
        .env("VAKHSH__SIMULATOR__LINE_TRIP_LINE", "casa-2000")
        .env("VAKHSH__SIMULATOR__DC_GROWTH_TO_MW", "250")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        r#"simulator.line_trip_line = "casa-2000": no line has this id"#,
        r#"simulator.dc_growth_to_mw = 250: above the capacity_mw (100) of data center "darvoz""#,
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}
