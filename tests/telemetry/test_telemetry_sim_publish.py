"""``groundseg sim run --publish ENDPOINT --keys DIR``: one source key per satellite, everything
acknowledged (status 0); without the keys the platform refuses the stream and the command
says so with status 1 (it used to print its summary and exit 0)."""
from groundseg.cli import main
from sims.scenario import bundled_scenario_path
from telemetry.archive import Archive
from telemetry.keys import generate_keys
from _telemetry_helpers import platform_thread

SATELLITES = [f"FS8-{i}" for i in range(1, 9)]
PACKETS = 8 * (1800 // 10 + 1)                   # half an hour of 10 s housekeeping per satellite


def _sim_run(tmp_path, ep, *extra):
    """The bundled scenario for half an hour, without its faults and its week of coverage."""
    scenario = tmp_path / "half_hour.toml"
    text = bundled_scenario_path().read_text().split("[[faults]]")[0]
    scenario.write_text(text.replace("duration_h = 24.0", "duration_h = 0.5"))
    return main(["sim", "run", str(scenario), "--output", str(tmp_path / "out"), "--publish", ep, "--time-limit",
                 "1", "--no-pictures", *extra])


def test_sim_run_publishes_with_keys_and_fails_without(tmp_path, capsys):
    keys = tmp_path / "keys"
    generate_keys(keys)
    for name in SATELLITES:
        generate_keys(keys, name)
    ep = f"ipc://{tmp_path}/p.sock"
    with platform_thread(ep, tmp_path / "a.sqlite", keys=keys):
        assert _sim_run(tmp_path, ep, "--keys", str(keys)) == 0
        capsys.readouterr()
        assert _sim_run(tmp_path, ep, "--linger", "0.5") == 1
        err = capsys.readouterr().err
    assert f"not delivered: the platform at {ep} did not acknowledge every packet" in err
    a = Archive(tmp_path / "a.sqlite", readonly=True)
    s = a.stats()
    a.close()
    assert s["packets_archived"] == PACKETS == s["packets_received"]


def test_keys_need_publish(tmp_path, capsys):
    assert main(["demo", "--hours", "0.5", "--output", str(tmp_path / "o"), "--keys", str(tmp_path)]) == 2
    assert "--keys authenticates to the platform at --publish" in capsys.readouterr().err
