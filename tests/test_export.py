"""The exported champion in models/: staging folders, the lock inside the folder, and recovery after kill -9."""

from __future__ import annotations

import threading

from lithioscreen.models.champion import LOCK_FILENAME, METADATA_FILENAME, MODEL_DIRNAME, models_lock, recover_staging


def _model(folder, text):
    (folder / MODEL_DIRNAME).mkdir(parents=True)
    (folder / MODEL_DIRNAME / "model.pkl").write_text(text)


def test_stale_staging_folders_are_removed_under_the_lock_inside_models(tmp_path):
    models = tmp_path / "models"
    _model(models, "current")
    (models / METADATA_FILENAME).write_text("{}")
    for stale in (".candidate-abc", ".champion-def", ".retired-ghi"):  # what kill -9 left behind
        (models / stale / "partial").mkdir(parents=True)
    with models_lock(models) as recovered:
        assert sorted(recovered) == [".candidate-abc", ".champion-def", ".retired-ghi"]
    assert sorted(path.name for path in models.iterdir()) == [LOCK_FILENAME, METADATA_FILENAME, MODEL_DIRNAME]
    assert (models / MODEL_DIRNAME / "model.pkl").read_text() == "current"
    assert not (tmp_path / ".models.promotion.lock").exists()  # the lock is inside models/, not beside it


def test_killed_between_the_two_renames_puts_the_old_model_back(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    _model(models / ".retired-x", "old")  # the old model was renamed aside, the new one never arrived
    (models / METADATA_FILENAME).write_text('{"model": "old"}')
    recover_staging(models)
    assert (models / MODEL_DIRNAME / "model.pkl").read_text() == "old"
    assert [path.name for path in models.iterdir() if path.name.startswith(".")] == []


def test_killed_after_the_model_moved_in_completes_the_install(tmp_path):
    models = tmp_path / "models"
    _model(models, "new")  # the new model is in place ...
    (models / METADATA_FILENAME).write_text('{"model": "old"}')
    (models / ".candidate-y").mkdir()
    (models / ".candidate-y" / METADATA_FILENAME).write_text('{"model": "new"}')  # ... its metadata was not yet
    recover_staging(models)
    assert (models / METADATA_FILENAME).read_text() == '{"model": "new"}'
    assert not (models / ".candidate-y").exists()


def test_a_second_writer_waits_for_the_lock(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    order = []

    def second():
        with models_lock(models):
            order.append("second")

    with models_lock(models):
        (models / ".champion-live").mkdir()  # a live writer's staging folder: not touched while it holds the lock
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and (models / ".champion-live").exists()
        order.append("first")
    worker.join(10)
    assert order == ["first", "second"]


def test_lock_timeout_is_an_error(tmp_path):
    models = tmp_path / "models"
    with models_lock(models):
        done = []

        def second():
            try:
                with models_lock(models, timeout_s=0.2):
                    done.append("entered")
            except TimeoutError as error:
                done.append(str(error))

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(10)
    assert done and "another export or retraining" in done[0]
