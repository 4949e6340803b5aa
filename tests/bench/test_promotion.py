from bench import promotion

LOGGER = "app python[{pid}]: INFO model_api.webhooks:"
WOKEN = "webhook delivery: wine-cultivar@champion moved, every worker resolves it"
REGISTERED = "webhook delivery: wine-cultivar v7 registered, preparing it ahead"
SERVING = "app python[{pid}]: INFO model_api.champion: serving wine-cultivar"
AHEAD = "model_api.champion: prepared wine-cultivar v7 ahead: download 1.10 s, check 0.02 s"
JOURNAL = "\n".join(
    [
        "-- Logs begin at Sun 2026-12-06 10:00:00 UTC. --",
        f"1765015190.000000 {LOGGER.format(pid=22)} {REGISTERED}",
        f"1765015191.500000 app python[22]: INFO {AHEAD}",
        f"1765015199.900000 {LOGGER.format(pid=21)} {WOKEN}",
        f"1765015200.700000 {LOGGER.format(pid=21)} {WOKEN}",
        f"1765015200.900000 {LOGGER.format(pid=22)} {WOKEN}",
        f"1765015203.100000 {LOGGER.format(pid=21)} loaded wine-cultivar v7: download 0.90 s",
        f"1765015203.100000 {SERVING.format(pid=21)} v7 (was v6) through onnx, loaded in 3.00 s",
        f"1765015203.500000 {LOGGER.format(pid=22)} loaded wine-cultivar v7: waited 2.40 s",
        f"1765015203.600000 {SERVING.format(pid=22)} v7 (was v6) through onnx, loaded in 2.50 s",
        f"1765015204.000000 {LOGGER.format(pid=22)} loaded wine-cultivar v6: handed over 0.20 s",
        f"1765015204.100000 {SERVING.format(pid=22)} v6 (was v7) through onnx, loaded in 0.20 s",
        f"1765015205.100000 {SERVING.format(pid=22)} v7 (was v6) through onnx, loaded in 0.20 s",
    ]
)


def test_the_wake_and_each_workers_load_are_read_from_the_journal() -> None:
    found = promotion.what_the_api_logged(JOURNAL, moved=1765015200.5, version="7")
    assert found["first_woken_s"] == 0.2  # the line before the move is an earlier one's
    assert (found["registered_s"], found["prepared_s"]) == (-10.5, -9.0)
    assert found["loads"] == [
        "-9.00 s v7 ahead: download 1.10 s, check 0.02 s",
        "+2.60 s v7: download 0.90 s",
        "+3.00 s v7: waited 2.40 s",
    ]
    assert found["swapped_s"] == [2.6, 3.1]  # each worker's first swap to v7


def test_a_move_nothing_woke_says_so() -> None:
    assert promotion.what_the_api_logged("-- No entries --\n", 1.0, "7") == {
        "first_woken_s": None,
        "registered_s": None,
        "prepared_s": None,
        "loads": [],
        "swapped_s": [],
    }
