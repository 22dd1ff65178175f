"""Tacotron 2 checkpoints: every NVIDIA layout and the project format load to the same model; bad files
give a CheckpointError that names the file and what was expected."""
import json
import pickle
from pathlib import Path

import pytest
import torch

from tts.core.audio import AudioSettings
from tts.core.serialization import (
    CheckpointError,
    make_project_checkpoint,
    save_project_checkpoint,
)
from tts.tacotron2 import Tacotron2, Tacotron2Config
from tts.tacotron2.checkpoint import (
    average_tacotron2,
    config_from_state_dict,
    load_tacotron2,
    save_tacotron2,
    warm_start_state_dict,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"

TINY = dict(symbols_embedding_dim=16, encoder_embedding_dim=16, encoder_n_convolutions=2, decoder_rnn_dim=24,
            attention_rnn_dim=20, prenet_dim=12, attention_dim=8, attention_location_n_filters=4,
            attention_location_kernel_size=5, postnet_embedding_dim=12, postnet_n_convolutions=3,
            encoder_kernel_size=3, postnet_kernel_size=3)


def tiny_model(seed: int = 0, **overrides) -> Tacotron2:
    torch.manual_seed(seed)
    model = Tacotron2(Tacotron2Config(**{**TINY, **overrides}))
    # non-trivial batch-norm statistics, so that buffers are checked too
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.normal_(0, 0.1)
        elif name.endswith("running_var"):
            buf.uniform_(0.5, 1.5)
        elif name.endswith("num_batches_tracked"):
            buf.fill_(1234)
    return model.eval()


def synth(model: Tacotron2) -> torch.Tensor:
    text = torch.tensor([[5, 20, 40, 11, 60, 7, 9, 30]])
    return model.infer(text, prenet_dropout=0.0, max_decoder_steps=12, gate_threshold=1.0, fast=False).mel


def assert_same_weights(a: Tacotron2, b: Tacotron2) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert torch.equal(sa[k], sb[k]), k


def adam_state(model: Tacotron2) -> dict:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    out = model(torch.tensor([[3, 4, 5]]), torch.tensor([3]), torch.zeros(1, 80, 2), torch.tensor([2]))
    out.mel.sum().backward()
    opt.step()
    model.eval()
    return opt.state_dict()


def half_model(model: Tacotron2) -> Tacotron2:
    """What a model looks like after its floating-point tensors went through fp16 (DLE AMP checkpoints)."""
    copy = Tacotron2(model.config).eval()
    copy.load_state_dict({k: (v.half().float() if v.is_floating_point() else v) for k, v in model.state_dict().items()})
    return copy


# -------------------------------------------------------------------------------------------------
# layouts
# -------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_every_layout_loads_the_same_model(tmp_path):
    model = tiny_model()
    expected = synth(model)
    sd = model.state_dict()
    training = tiny_model()
    layouts = {
        "nvidia_training": {"iteration": 1000, "state_dict": sd, "optimizer": adam_state(training),
                            "learning_rate": 1e-3},
        "nvidia_statedict": {"state_dict": sd, "iteration": 0},
        "bare": sd,
        "ddp_prefixed": {"state_dict": {"module." + k: v for k, v in sd.items()}},
    }
    for name, obj in layouts.items():
        path = tmp_path / name
        torch.save(obj, path)
        loaded = load_tacotron2(path)
        assert not loaded.training, name
        assert loaded.config == model.config, name
        assert_same_weights(loaded, model)
        assert torch.equal(synth(loaded), expected), name
    assert load_tacotron2(tmp_path / "nvidia_training").checkpoint_extra["iteration"] == 1000

    project = save_tacotron2(model, tmp_path / "project.pt")
    loaded = load_tacotron2(project)
    assert_same_weights(loaded, model)
    assert torch.equal(synth(loaded), expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("prefix", ["module.", "module.1."])
def test_deep_learning_examples_layout_fp16(tmp_path, prefix):
    model = tiny_model(n_symbols=40)
    config = {**model.config.to_dict(), "max_decoder_steps": 2000, "gate_threshold": 0.5,
              "decoder_no_early_stopping": False, "mask_padding": False}
    sd = {prefix + k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    torch.save({"epoch": 1500, "config": config, "state_dict": sd, "optimizer": adam_state(tiny_model(n_symbols=40))},
               tmp_path / "dle.pt")
    loaded = load_tacotron2(tmp_path / "dle.pt")
    assert loaded.config.mask_padding is False  # taken from the stored config, not guessed
    assert loaded.config.n_symbols == 40
    assert all(v.dtype in (torch.float32, torch.long) for v in loaded.state_dict().values())
    reference = half_model(model)
    assert_same_weights(loaded, reference)
    text = torch.tensor([[5, 20, 39, 11]])
    kw = dict(prenet_dropout=0.0, max_decoder_steps=5, gate_threshold=1.0, fast=False)
    assert torch.equal(loaded.infer(text, **kw).mel, reference.infer(text, **kw).mel)


def test_project_format_keeps_config_audio_and_text_settings(tmp_path):
    audio = AudioSettings(mel_fmax=7600.0)
    torch.manual_seed(1)
    model = Tacotron2(Tacotron2Config(**TINY, n_frames_per_step=2, p_decoder_dropout=0.2), audio)
    model.text_settings = {"cleaners": "english", "symbols": "nvidia-148"}
    path = save_tacotron2(model, tmp_path / "voice" / "tacotron2.pt", extra={"step": 7})
    loaded = load_tacotron2(path)
    assert loaded.config == model.config
    assert loaded.audio == audio
    assert loaded.text_settings == model.text_settings
    assert loaded.checkpoint_extra["step"] == 7
    assert_same_weights(loaded, model.eval())


def test_average_is_the_mean_of_the_weights_and_keeps_the_last_metadata(tmp_path):
    models = [tiny_model(seed) for seed in (1, 2, 3)]
    paths = [save_tacotron2(m, tmp_path / f"step{i}.pt", extra={"step": 100 * (i + 1)}) for i, m in enumerate(models)]
    averaged = average_tacotron2(paths)
    states = [m.state_dict() for m in models]
    for key, value in averaged.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (states[0][key] + states[1][key] + states[2][key]) / 3)
        else:  # integer buffers (num_batches_tracked) come from the last checkpoint
            assert torch.equal(value, states[2][key]), key
    assert averaged.checkpoint_extra["step"] == 300
    assert averaged.checkpoint_extra["averaged"] == ["step0.pt", "step1.pt", "step2.pt"]
    assert_same_weights(average_tacotron2(paths[1:2]), models[1])


def test_average_refuses_checkpoints_of_different_models(tmp_path):
    a = save_tacotron2(tiny_model(1), tmp_path / "a.pt")
    b = save_tacotron2(tiny_model(2, n_frames_per_step=2), tmp_path / "b.pt")
    with pytest.raises(ValueError, match="only checkpoints of one run can be averaged"):
        average_tacotron2([a, b])
    with pytest.raises(ValueError, match="at least one"):
        average_tacotron2([])


def test_dimensions_are_read_from_shapes():
    model = tiny_model(n_frames_per_step=3, n_symbols=77, attention_location_kernel_size=9)
    assert config_from_state_dict(model.state_dict()) == model.config


def test_nvidia_single_gate_unit_with_r_above_one_is_shared_by_the_group(tmp_path):
    model = tiny_model(n_frames_per_step=2)
    sd = dict(model.state_dict())
    w, b = "decoder.gate_layer.linear_layer.weight", "decoder.gate_layer.linear_layer.bias"
    sd[w], sd[b] = sd[w][:1].clone(), sd[b][:1].clone()  # NVIDIA's code keeps one gate unit for any r
    torch.save({"state_dict": sd}, tmp_path / "r2")
    loaded = load_tacotron2(tmp_path / "r2")
    assert torch.equal(loaded.decoder.gate_layer.linear_layer.weight, sd[w].repeat(2, 1))
    assert torch.equal(loaded.decoder.gate_layer.linear_layer.bias, sd[b].repeat(2))


# -------------------------------------------------------------------------------------------------
# full-size model against NVIDIA's key list
# -------------------------------------------------------------------------------------------------
def test_full_size_state_dict_matches_nvidia_keys_and_shapes():
    path = REFERENCE / "tacotron2_full_keys.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    expected = json.loads(path.read_text())
    sd = Tacotron2(Tacotron2Config()).state_dict()
    assert list(sd) == list(expected)
    assert {k: list(v.shape) for k, v in sd.items()} == expected
    assert config_from_state_dict(sd) == Tacotron2Config()


# -------------------------------------------------------------------------------------------------
# bad files
# -------------------------------------------------------------------------------------------------
def test_truncated_and_corrupt_files(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"state_dict": tiny_model().state_dict()}, good)
    data = good.read_bytes()
    cases = {
        "truncated.pt": data[: len(data) // 2],
        "garbage.pt": bytes(range(256)) * 10,
        "empty.pt": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=name):
            load_tacotron2(tmp_path / name)
    with pytest.raises(CheckpointError, match="not found"):
        load_tacotron2(tmp_path / "missing.pt")


def test_wrong_model_and_random_dicts(tmp_path):
    waveglow_like = {"upsample.weight": torch.zeros(80, 80, 1024), "upsample.bias": torch.zeros(80),
                     "WN.0.start.weight_g": torch.zeros(256, 1, 1), "convinv.0.conv.weight": torch.zeros(8, 8, 1)}
    torch.save({"model": None, "state_dict": waveglow_like}, tmp_path / "waveglow.pt")
    with pytest.raises(CheckpointError, match=r"waveglow\.pt.*not a Tacotron 2.*missing keys: .*embedding\.weight"
                       r".*unexpected keys: .*upsample\.weight"):
        load_tacotron2(tmp_path / "waveglow.pt")

    torch.save({"foo": 1, "bar": [1, 2]}, tmp_path / "random.pt")
    with pytest.raises(CheckpointError, match=r"random\.pt.*expected a Tacotron 2 checkpoint.*bar, foo"):
        load_tacotron2(tmp_path / "random.pt")

    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="list"):
        load_tacotron2(tmp_path / "list.pt")

    ckpt = make_project_checkpoint("waveglow", {}, waveglow_like, AudioSettings())
    save_project_checkpoint(tmp_path / "project_waveglow.pt", ckpt)
    with pytest.raises(CheckpointError, match="'waveglow' checkpoint, expected a 'tacotron2'"):
        load_tacotron2(tmp_path / "project_waveglow.pt")


def test_incomplete_or_mismatched_state_dicts(tmp_path):
    sd = dict(tiny_model().state_dict())
    del sd["postnet.convolutions.1.1.running_var"]
    torch.save({"state_dict": sd}, tmp_path / "incomplete.pt")
    with pytest.raises(CheckpointError, match=r"incomplete\.pt.*missing keys: postnet\.convolutions\.1\.1\.running_var"):
        load_tacotron2(tmp_path / "incomplete.pt")

    model = tiny_model()
    bad_config = {**model.config.to_dict(), "decoder_rnn_dim": 32}
    torch.save({"config": bad_config, "state_dict": model.state_dict()}, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match=r"mismatch\.pt.*shape mismatches: decoder\.decoder_rnn"):
        load_tacotron2(tmp_path / "mismatch.pt")


class _Pickled(torch.nn.Module):
    pass


def test_pickled_modules_are_refused_not_executed(tmp_path):
    torch.save({"model": _Pickled()}, tmp_path / "pickled.pt")
    with pytest.raises(CheckpointError, match=r"pickled\.pt.*expected a Tacotron 2 checkpoint"):
        load_tacotron2(tmp_path / "pickled.pt")
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError, match=r"raw\.pkl"):
        load_tacotron2(tmp_path / "raw.pkl")


# -------------------------------------------------------------------------------------------------
# warm start
# -------------------------------------------------------------------------------------------------
def test_warm_start_skips_embedding_when_symbols_differ(tmp_path):
    source = tiny_model(seed=1)
    target = tiny_model(seed=2, n_symbols=60)
    before = target.embedding.weight.clone()
    torch.save({"iteration": 5, "state_dict": source.state_dict()}, tmp_path / "src")
    assert warm_start_state_dict(target, tmp_path / "src") == ["embedding.weight"]
    assert torch.equal(target.embedding.weight, before)
    for k, v in source.state_dict().items():
        if k != "embedding.weight":
            assert torch.equal(target.state_dict()[k], v), k

    same = tiny_model(seed=3)
    assert warm_start_state_dict(same, {"module." + k: v for k, v in source.state_dict().items()}) == []
    assert_same_weights(same, source)

    other_r = tiny_model(seed=3, n_frames_per_step=2)
    with pytest.raises(CheckpointError, match="shape mismatches: decoder"):
        warm_start_state_dict(other_r, source.state_dict())


# -------------------------------------------------------------------------------------------------
# corrupt files are named as such, never as pickles; messages are never cut mid-word
# -------------------------------------------------------------------------------------------------
def test_corrupt_or_foreign_files_are_not_called_pickles(tmp_path):
    import random

    noise = bytearray(random.Random(0).randbytes(4096))
    noise[0] = 0x17  # neither a zip ('P') nor a pickle (0x80) header
    (tmp_path / "noise.pt").write_bytes(bytes(noise))
    (tmp_path / "notes.pt").write_text("Just some notes,\nnot weights at all.\n")
    (tmp_path / "proto0.pt").write_bytes(pickle.dumps({"a": 1}, protocol=0))
    for name in ("noise.pt", "notes.pt", "proto0.pt"):
        with pytest.raises(CheckpointError) as info:
            load_tacotron2(tmp_path / name)
        message = str(info.value)
        assert name in message and "is not a PyTorch checkpoint (corrupt or another file type)" in message
        assert "pickled" not in message


def test_damaged_checkpoints_say_so_in_whole_sentences(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"state_dict": tiny_model().state_dict()}, good)
    data = good.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as info:
        load_tacotron2(tmp_path / "cut.pt")
    message = str(info.value)
    assert "cut.pt" in message and "truncated" in message and "pickled" not in message
    assert not message.rstrip(")").endswith((" o", ",")) and "weights_only" not in message

    legacy = tmp_path / "legacy.pt"
    torch.save({"state_dict": tiny_model().state_dict()}, legacy, _use_new_zipfile_serialization=False)
    raw = legacy.read_bytes()
    (tmp_path / "legacy_cut.pt").write_bytes(raw[: len(raw) // 2])
    damaged = bytearray(raw)
    damaged[2:40] = b"\xff" * 38  # right header, garbage opcodes: torch's weights-only unpickler refuses it
    (tmp_path / "legacy_damaged.pt").write_bytes(bytes(damaged))
    for name in ("legacy_cut.pt", "legacy_damaged.pt"):
        with pytest.raises(CheckpointError, match="corrupt or truncated") as info:
            load_tacotron2(tmp_path / name)
        assert "pickled" not in str(info.value) and "weights_only" not in str(info.value)


def test_long_library_messages_keep_whole_sentences(tmp_path, monkeypatch):
    import tts.core.serialization

    torch_message = (  # torch 2.x's message for a damaged zip archive
        "PytorchStreamReader failed reading zip archive: failed finding central directory. This is an internal "
        "miniz error. If you are seeing this error, there is a high likelihood that your checkpoint file is "
        "corrupted. This can happen if the checkpoint was not saved properly, was transferred incorrectly, or "
        "the file was modified after saving.")
    path = tmp_path / "damaged.pt"
    torch.save({"state_dict": tiny_model().state_dict()}, path)

    def failing_load(*args, **kwargs):
        raise RuntimeError(torch_message)

    monkeypatch.setattr(tts.core.serialization.torch, "load", failing_load)
    with pytest.raises(CheckpointError) as info:
        load_tacotron2(path)
    message = str(info.value)
    kept = message[message.index("RuntimeError: ") + len("RuntimeError: "): message.index(")")]
    assert torch_message.startswith(kept) and kept.endswith(".")  # whole sentences only
    assert torch_message[len(kept)] == " "
    assert tts.core.serialization.brief("word " * 100, 40).endswith("word …")


def test_real_pickles_are_still_refused_as_pickles(tmp_path):
    for legacy in (False, True):
        path = tmp_path / f"objects_{legacy}.pt"
        torch.save({"model": _Pickled()}, path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(CheckpointError, match="holds pickled Python objects, which are not loaded for safety"):
            load_tacotron2(path)
