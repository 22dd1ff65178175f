"""Voice folders are confined: every file a voice.yaml names resolves inside the folder (`..`,
absolute paths and symbolic links out are refused with one clear error naming the key); the shipped
voices are found through the package, not the checkout's layout."""
import shutil

import pytest
import yaml

from tts.runtime.voices import VoiceError, find_voices, load_voice_config, resolve_voice_dir, shipped_voices_dir


def _copy_with(tiny_voice_dir, tmp_path, **changes):
    folder = tmp_path / "voice"
    shutil.copytree(tiny_voice_dir, folder)
    document = yaml.safe_load((folder / "voice.yaml").read_text())
    document.update(changes)
    (folder / "voice.yaml").write_text(yaml.safe_dump(document))
    return folder


@pytest.mark.parametrize("key", ["tacotron2", "waveglow"])
def test_parent_paths_are_refused(tiny_voice_dir, tmp_path, key):
    outside = tmp_path / "outside.pt"
    shutil.copy(tiny_voice_dir / "tacotron2.pt", outside)  # a real checkpoint: only the location is wrong
    changes = {"tacotron2": "../outside.pt"} if key == "tacotron2" else {"vocoders": {"waveglow": "../outside.pt"}}
    folder = _copy_with(tiny_voice_dir, tmp_path, **changes)
    with pytest.raises(VoiceError, match=rf"'{key}( vocoder)?' names '\.\./outside\.pt', which is outside the voice folder"):
        load_voice_config(folder)


def test_absolute_paths_are_refused(tiny_voice_dir, tmp_path):
    folder = _copy_with(tiny_voice_dir, tmp_path, tacotron2=str(tiny_voice_dir / "tacotron2.pt"))
    with pytest.raises(VoiceError, match="outside the voice folder"):
        load_voice_config(folder)


def test_symbolic_links_out_of_the_folder_are_refused(tiny_voice_dir, tmp_path):
    folder = _copy_with(tiny_voice_dir, tmp_path)
    (folder / "tacotron2.pt").unlink()
    (folder / "tacotron2.pt").symlink_to(tiny_voice_dir / "tacotron2.pt")
    with pytest.raises(VoiceError, match="'tacotron2' names 'tacotron2.pt', which is outside the voice folder"):
        load_voice_config(folder)


def test_links_and_subfolders_inside_the_folder_are_fine(tiny_voice_dir, tmp_path):
    folder = _copy_with(tiny_voice_dir, tmp_path, tacotron2="weights/t2.pt")
    (folder / "weights").mkdir()
    shutil.move(folder / "tacotron2.pt", folder / "weights" / "t2.pt")
    (folder / "link.pt").symlink_to(folder / "weights" / "t2.pt")
    assert load_voice_config(folder).tacotron2 == folder / "weights" / "t2.pt"


def test_shipped_voices_come_from_the_package():
    root = shipped_voices_dir()
    assert (root / "__init__.py").is_file() and "default" in find_voices()
    assert resolve_voice_dir("default") == root / "default"
