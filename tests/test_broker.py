"""The embedded folder broker: nobody sees half a message or half a binding table."""

import json
import os

from kombu import Connection

from newsletter.broker import use_atomic_folder_transport


def test_messages_and_bindings_appear_whole(tmp_path, monkeypatch):
    use_atomic_folder_transport()
    folder = tmp_path / "broker"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    appeared = []
    real_replace = os.replace

    def replace(source, target):
        # At the moment a file takes its real name, it is already complete.
        with open(source, "rb") as written:
            appeared.append((os.path.basename(target), json.loads(written.read())))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    body = {"payload": "x" * 100_000}
    with Connection("filesystem://", transport_options=options) as connection:
        assert type(connection.transport).__name__ == "AtomicFolderTransport"
        queue = connection.SimpleQueue("work")
        queue.put(body)
        names = [name for name, _ in appeared]
        assert names[0] == "work.exchange" and names[1].endswith(".work.msg")
        assert appeared[1][1]["body"]  # the whole message, encoded by kombu
        assert [p.name for p in folder.iterdir()] == [names[1]]  # no .part left behind
        assert queue.get(timeout=5).payload == body
